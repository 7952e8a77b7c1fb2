/**
 * One frame of a DICOM instance -> values: grey as float32 modality values (after the modality
 * LUT, before VOI), colour as interleaved RGB. Then `renderFrame` makes the 8-bit pixels models
 * take (VOI window, MONOCHROME1 inverted; colour scaled to 8 bits).
 */
import { decodeCompressed } from './codecs/index.js';
import { applyPalette, interleave, upsample422, ybrToRgb } from './color.js';
import { DicomError } from './errors.js';
import { encapsulatedFrame, nativeFrame } from './frames.js';
import {
  checkPixelHeader,
  type DicomHeader,
  decodableSyntax,
  type PixelHeader,
  readHeader,
} from './header.js';
import { applyVoi, type DicomWindow, modalityTransform, readVoi, type VoiSettings } from './lut.js';
import { type DataSet, parseDicom } from './parse.js';
import { storedValues } from './samples.js';

/** Default decompression-bomb guard: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeFrameOptions {
  /** Frame index (default 0). */
  frame?: number;
  maxPixels?: number;
}

export interface DicomFrame {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Grey: modality values. Colour: RGB samples in 0 .. 2^bits - 1 (palette: 0..255). */
  data: Float32Array;
  /** Bits per sample of `data` before the modality LUT (colour range is 2^bits - 1). */
  bits: number;
  frame: number;
  header: DicomHeader;
  pixels: PixelHeader;
  /** MONOCHROME1: high values are dark. */
  invert: boolean;
  voi: VoiSettings;
}

/** Decodes one frame of a Part 10 file; every failure is a DicomError naming what is wrong. */
export async function decodeFrame(
  bytes: Uint8Array,
  options: DecodeFrameOptions = {},
): Promise<DicomFrame> {
  const ds = parseDicom(bytes);
  return decodeFrameOf(ds, options);
}

/** As decodeFrame, for an already parsed data set. */
export async function decodeFrameOf(
  ds: DataSet,
  options: DecodeFrameOptions = {},
): Promise<DicomFrame> {
  const header = readHeader(ds);
  const p = header.pixels;
  if (!p) {
    throw new DicomError(
      'no-pixels',
      `DICOM object has no pixel data (7FE0,0010): not an image (SOP class ${header.sopClassUID ?? 'unknown'})`,
    );
  }
  if (ds.elements.x7fe00008 || ds.elements.x7fe00009) {
    throw new DicomError('unsupported', 'DICOM float or double float pixel data is not supported');
  }
  const syntax = decodableSyntax(ds);
  checkPixelHeader(p, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= p.frames) {
    throw new DicomError(
      'corrupt',
      `DICOM frame ${frame} does not exist (${p.frames} frame${p.frames === 1 ? '' : 's'})`,
    );
  }
  const pixels = p.rows * p.columns;
  let values: Float64Array;
  let photometric = p.photometric;
  let planar = p.planar;
  if (syntax.codec) {
    const decoded = await decodeCompressed(syntax.codec, encapsulatedFrame(ds, p, frame), p);
    // Codec output is little endian; JPEG-family codecs interleave colour.
    values = storedValues(decoded.data, p, pixels * p.samplesPerPixel, false);
    if (decoded.rgb) photometric = 'RGB';
    if (syntax.codec !== 'rle') planar = 0;
    // Compressed YBR_FULL_422 is subsampled inside the codestream; decoders give full pixels.
    if (photometric === 'YBR_FULL_422') photometric = 'YBR_FULL';
  } else {
    const raw = nativeFrame(ds, p, frame);
    if (photometric === 'YBR_FULL_422') {
      values = upsample422(
        storedValues(raw, p, pixels * 2, syntax.bigEndian === true),
        p.rows,
        p.columns,
      );
      photometric = 'YBR_FULL';
      planar = 0;
    } else values = storedValues(raw, p, pixels * p.samplesPerPixel, syntax.bigEndian === true);
  }

  const base = { width: p.columns, height: p.rows, frame, header, pixels: p, voi: readVoi(ds) };
  if (photometric === 'PALETTE COLOR') {
    const rgb = applyPalette(ds, values, syntax.bigEndian === true);
    return { ...base, channels: 3, data: Float32Array.from(rgb), bits: 8, invert: false };
  }
  if (p.samplesPerPixel === 3) {
    if (planar === 1) values = interleave(values, pixels);
    if (photometric === 'YBR_FULL' || photometric === 'YBR_ICT' || photometric === 'YBR_RCT') {
      ybrToRgb(values, p.bitsStored);
    }
    return {
      ...base,
      channels: 3,
      data: Float32Array.from(values),
      bits: p.bitsStored,
      invert: false,
    };
  }
  const modality = modalityTransform(ds, p.signed);
  const data = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) data[i] = modality(values[i]);
  return { ...base, channels: 1, data, bits: p.bitsStored, invert: photometric === 'MONOCHROME1' };
}

/** 8-bit pixels of a decoded frame: VOI (the given window, else the file's) and MONOCHROME1 inversion for grey; colour scaled to 8 bits. */
export function renderFrame(frame: DicomFrame, window?: DicomWindow): Uint8Array {
  if (frame.channels === 3) {
    const scale = 255 / (2 ** frame.bits - 1);
    const out = new Uint8Array(frame.data.length);
    for (let i = 0; i < out.length; i++)
      out[i] = Math.round(Math.min(255, Math.max(0, frame.data[i] * scale)));
    return out;
  }
  const out = applyVoi(frame.data, frame.voi, window);
  if (frame.invert) for (let i = 0; i < out.length; i++) out[i] = 255 - out[i];
  return out;
}
