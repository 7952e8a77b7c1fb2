/** The attributes that describe an instance and its pixels (no PHI). */
import { DicomError } from './errors.js';
import { type DataSet, text } from './parse.js';
import { describeSyntax, TRANSFER_SYNTAXES, type TransferSyntax } from './syntaxes.js';

export const IMPLICIT_LE = '1.2.840.10008.1.2';

export interface PixelHeader {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** PixelRepresentation 1: two's complement. */
  signed: boolean;
  photometric: string;
  /** 0: interleaved (RGBRGB), 1: planar (RRR..GGG..BBB). */
  planar: number;
  frames: number;
}

export interface DicomHeader {
  transferSyntax: { uid: string; name: string };
  sopClassUID?: string;
  sopInstanceUID?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  modality?: string;
  bodyPart?: string;
  /** Absent for non-image objects (SR, RT plans, waveforms, ...). */
  pixels?: PixelHeader;
}

const int = (ds: DataSet, tag: string) => {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  // US in explicit syntaxes; IS (text) for NumberOfFrames.
  if (el.vr === 'IS' || tag === 'x00280008') return ds.intString(tag);
  return ds.uint16(tag);
};

/** The transfer syntax the data set is encoded in (Implicit VR LE when the meta group omits it). */
export function transferSyntaxOf(ds: DataSet): string {
  return text(ds, 'x00020010') ?? IMPLICIT_LE;
}

/** The syntax entry, or a clear refusal for one camflow cannot decode. */
export function decodableSyntax(ds: DataSet): TransferSyntax {
  const uid = transferSyntaxOf(ds);
  const syntax = TRANSFER_SYNTAXES.get(uid);
  if (!syntax) {
    throw new DicomError(
      'unsupported',
      `DICOM transfer syntax ${describeSyntax(uid)} is not supported`,
    );
  }
  return syntax;
}

/** Reads the header attributes camflow routes and decodes by. */
export function readHeader(ds: DataSet): DicomHeader {
  const uid = transferSyntaxOf(ds);
  const header: DicomHeader = {
    transferSyntax: { uid, name: TRANSFER_SYNTAXES.get(uid)?.name ?? describeSyntax(uid) },
    sopClassUID: text(ds, 'x00080016') ?? text(ds, 'x00020002'),
    sopInstanceUID: text(ds, 'x00080018') ?? text(ds, 'x00020003'),
    studyInstanceUID: text(ds, 'x0020000d'),
    seriesInstanceUID: text(ds, 'x0020000e'),
    modality: text(ds, 'x00080060'),
    bodyPart: text(ds, 'x00180015'),
  };
  if (!ds.elements.x7fe00010 && !ds.elements.x7fe00008 && !ds.elements.x7fe00009) return header;
  const bitsAllocated = int(ds, 'x00280100') ?? 0;
  const bitsStored = int(ds, 'x00280101') ?? bitsAllocated;
  header.pixels = {
    rows: int(ds, 'x00280010') ?? 0,
    columns: int(ds, 'x00280011') ?? 0,
    samplesPerPixel: int(ds, 'x00280002') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: int(ds, 'x00280102') ?? bitsStored - 1,
    signed: int(ds, 'x00280103') === 1,
    photometric: (text(ds, 'x00280004') ?? 'MONOCHROME2').toUpperCase(),
    planar: int(ds, 'x00280006') ?? 0,
    frames: Math.max(1, int(ds, 'x00280008') ?? 1),
  };
  return header;
}

const PHOTOMETRICS: Record<string, number> = {
  MONOCHROME1: 1,
  MONOCHROME2: 1,
  'PALETTE COLOR': 1,
  RGB: 3,
  YBR_FULL: 3,
  YBR_FULL_422: 3,
  YBR_ICT: 3,
  YBR_RCT: 3,
};

/** Refuses pixel layouts that are inconsistent or that camflow does not handle, naming them. */
export function checkPixelHeader(p: PixelHeader, maxPixels: number): void {
  if (p.rows <= 0 || p.columns <= 0) {
    throw new DicomError(
      'corrupt',
      `DICOM image has no size (rows ${p.rows}, columns ${p.columns})`,
    );
  }
  if (p.rows * p.columns > maxPixels) {
    throw new DicomError(
      'too-large',
      `DICOM image is ${p.columns}x${p.rows}, over the ${maxPixels}-pixel limit`,
    );
  }
  const samples = PHOTOMETRICS[p.photometric];
  if (samples === undefined) {
    throw new DicomError(
      'unsupported',
      `DICOM photometric interpretation ${JSON.stringify(p.photometric.slice(0, 32))} is not supported`,
    );
  }
  if (samples !== p.samplesPerPixel) {
    throw new DicomError(
      'corrupt',
      `DICOM photometric interpretation ${p.photometric} needs ${samples} samples per pixel, the file says ${p.samplesPerPixel}`,
    );
  }
  if (![8, 16, 32].includes(p.bitsAllocated)) {
    throw new DicomError(
      'unsupported',
      `DICOM with ${p.bitsAllocated} bits allocated is not supported (8, 16 or 32)`,
    );
  }
  if (
    p.bitsStored < 1 ||
    p.bitsStored > p.bitsAllocated ||
    p.highBit < p.bitsStored - 1 ||
    p.highBit >= p.bitsAllocated
  ) {
    throw new DicomError(
      'corrupt',
      `DICOM bit layout is inconsistent (allocated ${p.bitsAllocated}, stored ${p.bitsStored}, high bit ${p.highBit})`,
    );
  }
  if (samples === 3 && p.bitsAllocated === 32) {
    throw new DicomError(
      'unsupported',
      'DICOM colour images with 32 bits allocated are not supported',
    );
  }
}
