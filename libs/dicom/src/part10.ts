/**
 * A Part 10 file around a data set received over the network, byte for byte as sent: the
 * 128-byte preamble, "DICM", and the File Meta Information group (PS3.10 7.1, always explicit VR
 * little endian), then the data set in its transfer syntax. Nothing is re-encoded.
 */

/** camflow's implementation class UID (2.25 + a fixed UUID as a decimal integer). */
export const IMPLEMENTATION_CLASS_UID = '2.25.281950273925104425131417311232547829357';
export const IMPLEMENTATION_VERSION = 'CAMFLOW_1';

export interface FileMeta {
  sopClassUID: string;
  sopInstanceUID: string;
  transferSyntaxUID: string;
  /** The sender's AE title (Source Application Entity Title). */
  sourceAET?: string;
}

function element(group: number, el: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

// UIDs pad with NUL, other text with a space, to an even length.
function text(s: string, pad: string): Uint8Array {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'latin1')]) : b;
}

/** Wraps a data set (as received, in `meta.transferSyntaxUID`) into a Part 10 file. */
export function toPart10(dataset: Uint8Array, meta: FileMeta): Uint8Array {
  const body = [
    element(2, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(2, 0x0002, 'UI', text(meta.sopClassUID, '\0')),
    element(2, 0x0003, 'UI', text(meta.sopInstanceUID, '\0')),
    element(2, 0x0010, 'UI', text(meta.transferSyntaxUID, '\0')),
    element(2, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(2, 0x0013, 'SH', text(IMPLEMENTATION_VERSION, ' ')),
    ...(meta.sourceAET ? [element(2, 0x0016, 'AE', text(meta.sourceAET.trim(), ' '))] : []),
  ];
  const length = body.reduce((n, b) => n + b.length, 0);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element(2, 0x0000, 'UL', groupLength),
    ...body,
    dataset,
  ]);
}
