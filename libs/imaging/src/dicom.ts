/**
 * DICOM (Part 10 files) to 8-bit grey pixels: modality rescale (slope/intercept), then the VOI
 * window (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID) from the file or the caller, else
 * the full min..max range, then MONOCHROME1 inversion. Uncompressed transfer syntaxes only;
 * compressed ones fail permanently, naming the syntax.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DecodedImage } from './decode.js';
import { ImageDecodeError } from './errors.js';

/** A VOI window in modality units (after rescale). */
export interface DicomWindow {
  center: number;
  width: number;
}

export interface DicomOptions {
  maxPixels: number;
  /** Overrides the file's window. */
  window?: DicomWindow;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const UNCOMPRESSED = new Set([IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE]);

const COMPRESSED_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const fail = (code: 'corrupt' | 'truncated' | 'unsupported-dicom' | 'too-large', message: string) =>
  new ImageDecodeError(code, message);

// dicom-parser calls this for the deflated syntax: the data set after the meta header is raw
// deflate; return the whole byte array with that part inflated.
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

function parse(bytes: Uint8Array): dicomParser.DataSet {
  try {
    return dicomParser.parseDicom(bytes, { inflater } as dicomParser.ParseDicomOptions);
  } catch (err) {
    // dicom-parser throws strings, or objects carrying the string and a partial data set.
    const detail =
      err instanceof Error
        ? err.message
        : typeof err === 'string'
          ? err
          : String((err as { exception?: unknown })?.exception ?? err);
    const kind = /overr(ead|un)|end of buffer|past end|outside|premature/i.test(detail)
      ? 'truncated'
      : 'corrupt';
    throw fail(kind, `DICOM data is ${kind} (${detail})`);
  }
}

/** Decodes the first frame of a DICOM file to 8-bit grey (or RGB) pixels. */
export function decodeDicom(bytes: Uint8Array, options: DicomOptions): DecodedImage {
  const data = parse(bytes);
  const syntax = data.string('x00020010')?.replace(/\0/g, '').trim() ?? IMPLICIT_LE;
  if (!UNCOMPRESSED.has(syntax)) {
    const name = COMPRESSED_NAMES[syntax];
    throw fail(
      'unsupported-dicom',
      `DICOM transfer syntax ${syntax}${name ? ` (${name})` : ''} is not supported: only ` +
        'uncompressed (implicit/explicit VR little endian, explicit big endian, deflated)',
    );
  }
  const pixelElement = data.elements.x7fe00010;
  if (!pixelElement) throw fail('unsupported-dicom', 'DICOM file has no pixel data (7FE0,0010)');
  const rows = data.uint16('x00280010') ?? 0;
  const columns = data.uint16('x00280011') ?? 0;
  const samples = data.uint16('x00280002') ?? 1;
  const bitsAllocated = data.uint16('x00280100') ?? 0;
  const bitsStored = data.uint16('x00280101') ?? bitsAllocated;
  const highBit = data.uint16('x00280102') ?? bitsStored - 1;
  const signed = data.uint16('x00280103') === 1;
  const photometric = data.string('x00280004')?.trim() ?? 'MONOCHROME2';
  const planar = data.uint16('x00280006') ?? 0;

  if (rows <= 0 || columns <= 0)
    throw fail('corrupt', `DICOM image has no size (rows ${rows}, columns ${columns})`);
  if (rows * columns > options.maxPixels) {
    throw fail(
      'too-large',
      `DICOM image is ${columns}x${rows}, over the ${options.maxPixels}-pixel limit`,
    );
  }
  const mono = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  if (!(mono && samples === 1) && !(photometric === 'RGB' && samples === 3)) {
    throw fail(
      'unsupported-dicom',
      `DICOM photometric interpretation ${photometric} with ${samples} samples is not supported`,
    );
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw fail(
      'unsupported-dicom',
      `DICOM with ${bitsAllocated} bits allocated is not supported (8 or 16)`,
    );
  }
  if (
    bitsStored < 1 ||
    bitsStored > bitsAllocated ||
    highBit < bitsStored - 1 ||
    highBit >= bitsAllocated
  ) {
    throw fail(
      'corrupt',
      `DICOM bit layout is inconsistent (allocated ${bitsAllocated}, stored ${bitsStored}, high bit ${highBit})`,
    );
  }
  const count = rows * columns * samples;
  const bytesPer = bitsAllocated / 8;
  if (
    pixelElement.dataOffset + count * bytesPer > data.byteArray.length ||
    pixelElement.length < count * bytesPer
  ) {
    throw fail(
      'truncated',
      `DICOM pixel data is truncated: ${count * bytesPer} bytes expected, ${Math.min(pixelElement.length, data.byteArray.length - pixelElement.dataOffset)} present`,
    );
  }

  const raw = readSamples(
    data.byteArray,
    pixelElement.dataOffset,
    count,
    bitsAllocated,
    bitsStored,
    highBit,
    signed,
    syntax === EXPLICIT_BE,
  );
  if (photometric === 'RGB') {
    return {
      width: columns,
      height: rows,
      channels: 3,
      data: toInterleavedRgb(raw, rows * columns, planar, bitsStored),
      format: 'dicom',
      bitDepth: bitsStored,
    };
  }

  const slope = data.floatString('x00281053') ?? 1;
  const intercept = data.floatString('x00281052') ?? 0;
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = raw[i] * slope + intercept;

  // Without a window, map the full min..max range linearly (LINEAR_EXACT does that exactly).
  const window = options.window ?? fileWindow(data);
  const fn = (data.string('x00281056')?.trim() || 'LINEAR').toUpperCase();
  const voi = window ? voiFunction(fn, window) : voiFunction('LINEAR_EXACT', fullRange(values));
  const out = new Uint8Array(count);
  const invert = photometric === 'MONOCHROME1';
  for (let i = 0; i < count; i++) {
    const y = Math.round(voi(values[i]));
    out[i] = invert ? 255 - y : y;
  }
  return {
    width: columns,
    height: rows,
    channels: 1,
    data: out,
    format: 'dicom',
    bitDepth: bitsStored,
  };
}

function readSamples(
  bytes: Uint8Array,
  offset: number,
  count: number,
  bitsAllocated: number,
  bitsStored: number,
  highBit: number,
  signed: boolean,
  bigEndian: boolean,
): Int32Array {
  const out = new Int32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * (bitsAllocated / 8));
  const shift = highBit + 1 - bitsStored;
  const mask = 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  for (let i = 0; i < count; i++) {
    const word = bitsAllocated === 16 ? view.getUint16(i * 2, !bigEndian) : view.getUint8(i);
    // Keep only the stored bits (others may hold overlays), then sign-extend if signed.
    let v = (word >> shift) & mask;
    if (signed && v >= signBit) v -= 2 * signBit;
    out[i] = v;
  }
  return out;
}

function toInterleavedRgb(
  raw: Int32Array,
  pixels: number,
  planar: number,
  bitsStored: number,
): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const scale = 255 / (2 ** bitsStored - 1);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) {
      const v = planar === 1 ? raw[c * pixels + i] : raw[i * 3 + c];
      out[i * 3 + c] = Math.round(Math.min(255, Math.max(0, v * scale)));
    }
  }
  return out;
}

function fileWindow(data: dicomParser.DataSet): DicomWindow | undefined {
  const center = data.floatString('x00281050', 0);
  const width = data.floatString('x00281051', 0);
  if (center === undefined || width === undefined || !Number.isFinite(center) || !(width > 0))
    return undefined;
  return { center, width };
}

/** The full value range as a LINEAR_EXACT window: min -> 0, max -> 255. */
function fullRange(values: Float64Array): DicomWindow {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return { center: min, width: 0 };
  return { center: (min + max) / 2, width: max - min };
}

function voiFunction(fn: string, { center: c, width: w }: DicomWindow): (x: number) => number {
  if (w <= 0) return () => 0;
  if (fn === 'SIGMOID') return (x) => 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255);
  }
  // LINEAR (the default): PS3.3 C.11.2.1.2.1; width 1 is a threshold at c - 0.5.
  if (w < 1) w = 1;
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  return (x) =>
    x <= lo ? 0 : x > hi ? 255 : w === 1 ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}
