/** Transfer syntaxes camflow reads, and how (PS3.5 Section 10 and Annex A). */
export type CodecName = 'jpeg-baseline' | 'jpeg-ijg' | 'jpeg-ls' | 'j2k' | 'htj2k' | 'rle';

export interface TransferSyntax {
  uid: string;
  name: string;
  /** Pixel data in fragments (compressed); otherwise native. */
  encapsulated: boolean;
  /** The syntax allows loss (the pixels may differ from what the modality acquired). */
  lossy: boolean;
  codec?: CodecName;
  bigEndian?: boolean;
  implicitVR?: boolean;
  deflated?: boolean;
}

const LIST: TransferSyntax[] = [
  {
    uid: '1.2.840.10008.1.2',
    name: 'Implicit VR Little Endian',
    encapsulated: false,
    lossy: false,
    implicitVR: true,
  },
  {
    uid: '1.2.840.10008.1.2.1',
    name: 'Explicit VR Little Endian',
    encapsulated: false,
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.1.99',
    name: 'Deflated Explicit VR Little Endian',
    encapsulated: false,
    lossy: false,
    deflated: true,
  },
  {
    uid: '1.2.840.10008.1.2.2',
    name: 'Explicit VR Big Endian',
    encapsulated: false,
    lossy: false,
    bigEndian: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.50',
    name: 'JPEG Baseline (Process 1)',
    encapsulated: true,
    lossy: true,
    codec: 'jpeg-baseline',
  },
  {
    uid: '1.2.840.10008.1.2.4.51',
    name: 'JPEG Extended (Process 2 & 4)',
    encapsulated: true,
    lossy: true,
    codec: 'jpeg-ijg',
  },
  {
    uid: '1.2.840.10008.1.2.4.57',
    name: 'JPEG Lossless, Non-Hierarchical (Process 14)',
    encapsulated: true,
    lossy: false,
    codec: 'jpeg-ijg',
  },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    encapsulated: true,
    lossy: false,
    codec: 'jpeg-ijg',
  },
  {
    uid: '1.2.840.10008.1.2.4.80',
    name: 'JPEG-LS Lossless',
    encapsulated: true,
    lossy: false,
    codec: 'jpeg-ls',
  },
  {
    uid: '1.2.840.10008.1.2.4.81',
    name: 'JPEG-LS Lossy (Near-Lossless)',
    encapsulated: true,
    lossy: true,
    codec: 'jpeg-ls',
  },
  {
    uid: '1.2.840.10008.1.2.4.90',
    name: 'JPEG 2000 (Lossless Only)',
    encapsulated: true,
    lossy: false,
    codec: 'j2k',
  },
  {
    uid: '1.2.840.10008.1.2.4.91',
    name: 'JPEG 2000',
    encapsulated: true,
    lossy: true,
    codec: 'j2k',
  },
  {
    uid: '1.2.840.10008.1.2.4.201',
    name: 'High-Throughput JPEG 2000 (Lossless Only)',
    encapsulated: true,
    lossy: false,
    codec: 'htj2k',
  },
  {
    uid: '1.2.840.10008.1.2.4.202',
    name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
    encapsulated: true,
    lossy: false,
    codec: 'htj2k',
  },
  {
    uid: '1.2.840.10008.1.2.4.203',
    name: 'High-Throughput JPEG 2000',
    encapsulated: true,
    lossy: true,
    codec: 'htj2k',
  },
  {
    uid: '1.2.840.10008.1.2.5',
    name: 'RLE Lossless',
    encapsulated: true,
    lossy: false,
    codec: 'rle',
  },
];

/** Every transfer syntax camflow decodes, by UID. */
export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(
  LIST.map((s) => [s.uid, s]),
);

/** Names of syntaxes camflow knows of but does not decode (for clear refusals). */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile @ Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile @ High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
};

/** "1.2.840.10008.1.2.4.50 (JPEG Baseline (Process 1))", or the bare UID when unknown. */
export function describeSyntax(uid: string): string {
  const name = TRANSFER_SYNTAXES.get(uid)?.name ?? KNOWN_UNSUPPORTED[uid];
  return name ? `${uid} (${name})` : uid;
}

/** Syntaxes an SCP that stores instances as received should accept: all it can decode. */
export const DECODABLE_SYNTAXES: readonly string[] = LIST.map((s) => s.uid);
