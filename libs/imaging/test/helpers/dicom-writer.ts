/**
 * A tiny DICOM Part 10 writer for test fixtures: preamble, "DICM", an explicit VR little-endian
 * file meta group, then the data set in the chosen transfer syntax (explicit or implicit VR
 * little endian, explicit big endian, deflated, or a compressed syntax UID with encapsulated
 * pixel data). Only what the decoder reads is written.
 */
import { deflateRawSync } from 'node:zlib';

export const SYNTAX = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpeg2000: '1.2.840.10008.1.2.4.90',
  rle: '1.2.840.10008.1.2.5',
};

export interface DicomFixture {
  rows: number;
  columns: number;
  /** Stored sample values (already signed if pixelRepresentation is 1). */
  pixels: ArrayLike<number>;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  photometric?: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'PALETTE COLOR';
  samplesPerPixel?: number;
  slope?: number;
  intercept?: number;
  windowCenter?: number | number[];
  windowWidth?: number | number[];
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  transferSyntax?: string;
  /** Extra bits to set above the stored bits (overlay data the decoder must ignore). */
  junkHighBits?: number;
  /** Native pixel data even under a compressed transfer syntax (an inconsistent file). */
  nativePixelData?: boolean;
}

type Value = { vr: string; bytes: Uint8Array };

const US = (v: number, be: boolean): Value => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, !be);
  return { vr: 'US', bytes: b };
};
const text = (vr: string, s: string, pad = ' '): Value => {
  const even = s.length % 2 ? s + pad : s;
  return { vr, bytes: new Uint8Array(Buffer.from(even, 'latin1')) };
};
const DS = (v: number | number[]) => text('DS', (Array.isArray(v) ? v : [v]).join('\\'));

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(
  group: number,
  elem: number,
  value: Value,
  explicit: boolean,
  be: boolean,
  undefinedLength = false,
) {
  const long = !explicit || LONG_VRS.has(value.vr);
  const head = new Uint8Array(explicit ? (long ? 12 : 8) : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, group, !be);
  view.setUint16(2, elem, !be);
  const length = undefinedLength ? 0xffffffff : value.bytes.length;
  if (explicit) {
    head[4] = value.vr.charCodeAt(0);
    head[5] = value.vr.charCodeAt(1);
    if (long) view.setUint32(8, length, !be);
    else view.setUint16(6, length, !be);
  } else {
    view.setUint32(4, length, !be);
  }
  return Buffer.concat([head, value.bytes]);
}

/** Encapsulated pixel data: an empty offset table item, one fragment, a sequence delimiter. */
function encapsulated(fragment: Uint8Array): Uint8Array {
  const item = (tagElem: number, data: Uint8Array) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(tagElem, 2);
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data]);
  };
  const even =
    fragment.length % 2 ? Buffer.concat([fragment, Buffer.alloc(1)]) : Buffer.from(fragment);
  return new Uint8Array(
    Buffer.concat([
      item(0xe000, new Uint8Array(0)),
      item(0xe000, even),
      item(0xe0dd, new Uint8Array(0)),
    ]),
  );
}

/** Writes a DICOM file holding one image. */
export function writeDicom(f: DicomFixture): Uint8Array {
  const syntax = f.transferSyntax ?? SYNTAX.explicitLE;
  const be = syntax === SYNTAX.explicitBE;
  const explicit = syntax !== SYNTAX.implicitLE;
  const bitsAllocated = f.bitsAllocated ?? 16;
  const bitsStored = f.bitsStored ?? bitsAllocated;
  const highBit = f.highBit ?? bitsStored - 1;
  const samples = f.samplesPerPixel ?? (f.photometric === 'RGB' ? 3 : 1);

  const pixelBytes = new Uint8Array(
    f.pixels.length * (bitsAllocated / 8) + (((f.pixels.length * bitsAllocated) / 8) % 2),
  );
  const pv = new DataView(pixelBytes.buffer);
  const shift = highBit + 1 - bitsStored;
  for (let i = 0; i < f.pixels.length; i++) {
    const stored = (f.pixels[i] & (2 ** bitsStored - 1)) << shift;
    const word = stored | ((f.junkHighBits ?? 0) << (highBit + 1));
    if (bitsAllocated === 16) pv.setUint16(i * 2, word & 0xffff, !be);
    else pixelBytes[i] = word & 0xff;
  }

  const compressed =
    !f.nativePixelData &&
    ![SYNTAX.implicitLE, SYNTAX.explicitLE, SYNTAX.explicitBE, SYNTAX.deflated].includes(syntax);
  const ds: Buffer[] = [];
  const add = (g: number, e: number, v: Value | undefined, undefinedLength = false) => {
    if (v) ds.push(element(g, e, v, explicit, be, undefinedLength));
  };
  add(0x0008, 0x0060, text('CS', 'CR'));
  add(0x0028, 0x0002, US(samples, be));
  add(0x0028, 0x0004, text('CS', f.photometric ?? 'MONOCHROME2'));
  add(0x0028, 0x0010, US(f.rows, be));
  add(0x0028, 0x0011, US(f.columns, be));
  add(0x0028, 0x0100, US(bitsAllocated, be));
  add(0x0028, 0x0101, US(bitsStored, be));
  add(0x0028, 0x0102, US(highBit, be));
  add(0x0028, 0x0103, US(f.signed ? 1 : 0, be));
  add(0x0028, 0x1050, f.windowCenter === undefined ? undefined : DS(f.windowCenter));
  add(0x0028, 0x1051, f.windowWidth === undefined ? undefined : DS(f.windowWidth));
  add(0x0028, 0x1052, f.intercept === undefined ? undefined : DS(f.intercept));
  add(0x0028, 0x1053, f.slope === undefined ? undefined : DS(f.slope));
  add(0x0028, 0x1056, f.voiLutFunction === undefined ? undefined : text('CS', f.voiLutFunction));
  if (compressed)
    add(
      0x7fe0,
      0x0010,
      { vr: 'OB', bytes: encapsulated(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])) },
      true,
    );
  else add(0x7fe0, 0x0010, { vr: bitsAllocated === 16 ? 'OW' : 'OB', bytes: pixelBytes });
  let dataSet: Uint8Array = Buffer.concat(ds);
  if (syntax === SYNTAX.deflated) dataSet = deflateRawSync(dataSet);

  // File meta information: always explicit VR little endian, group length first.
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, { vr: 'OB', bytes: new Uint8Array([0, 1]) }, true, false),
    element(0x0002, 0x0002, text('UI', '1.2.840.10008.5.1.4.1.1.1.1', '\0'), true, false),
    element(0x0002, 0x0003, text('UI', '1.2.3.4.5.6.7', '\0'), true, false),
    element(0x0002, 0x0010, text('UI', syntax, '\0'), true, false),
    element(0x0002, 0x0012, text('UI', '1.2.3.4', '\0'), true, false),
  ]);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, metaBody.length, true);
  const meta = Buffer.concat([
    element(0x0002, 0x0000, { vr: 'UL', bytes: groupLength }, true, false),
    metaBody,
  ]);
  return new Uint8Array(
    Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), meta, dataSet]),
  );
}
