/**
 * Decoding image bytes to 8-bit pixels with sharp (libvips). Every failure becomes an
 * `ImageDecodeError` with one line saying what is wrong; nothing here throws anything else for
 * bad input.
 */
import sharp from 'sharp';
import type { DecodedImage, ImageFormat } from './decoded-image.js';
import { type DicomWindow, decodeDicom } from './dicom.js';
import { ImageDecodeError } from './errors.js';

// Declared in a leaf that dicom.ts shares; the package exports them from here.
export type { DecodedImage, ImageFormat } from './decoded-image.js';

export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default 100 MP. */
  maxPixels?: number;
  /** Apply the EXIF orientation tag (Pillow, hence torchvision, ignores it). Default true. */
  autoOrient?: boolean;
  /** DICOM only: the VOI window to apply instead of the file's (modality units). */
  dicomWindow?: DicomWindow;
  /** DICOM only: the frame of a multi-frame instance (default 0). */
  dicomFrame?: number;
}

/** Default decompression-bomb guard: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

const FORMAT_NAMES: Record<ImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  webp: 'WebP',
  tiff: 'TIFF',
  dicom: 'DICOM',
};

const startsWith = (bytes: Uint8Array, magic: number[], at = 0) =>
  bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** Identifies a supported format from its magic bytes, or returns undefined. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return 'tiff';
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) {
    return 'tiff'; // BigTIFF
  }
  if (startsWith(bytes, ascii('DICM'), 128)) return 'dicom';
  return undefined;
}

function describeUnknown(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 512);
  const known: [number[], string, number?][] = [
    [ascii('GIF8'), 'GIF'],
    [ascii('BM'), 'BMP'],
    [ascii('%PDF'), 'PDF'],
    [ascii('ftyp'), 'HEIF/AVIF', 4],
  ];
  for (const [magic, name, at] of known) {
    if (startsWith(head, magic, at ?? 0)) return `${name} is not a supported format`;
  }
  const text = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  return text ? 'the input is text, not an image' : 'unrecognised image format';
}

/**
 * Decoder messages that mean the data stops early, as opposed to being garbled. libspng reports
 * "read error" when its buffer runs out inside the last IDAT chunk.
 */
const TRUNCATED =
  /premature end|end of stream|truncated|unexpected end|not enough data|short read|libspng read error/i;

/**
 * Decodes PNG, JPEG, WebP, TIFF (8 or 16 bit, grey or colour, first page) and DICOM (see
 * dicom.ts: every common transfer syntax, rescale, VOI window, MONOCHROME1) to 8-bit pixels: grey sources (with or without alpha) to 1 channel, colour to 3 (alpha dropped, as
 * Pillow's `convert('RGB')` does). Embedded ICC profiles are ignored, as Pillow does, so the
 * pixels are the ones the model saw in training. Throws `ImageDecodeError` for bad input.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty', 'empty input (0 bytes)');
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImageDecodeError(
      'unsupported-format',
      `${describeUnknown(bytes)} (expected PNG, JPEG, WebP, TIFF or DICOM)`,
    );
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (format === 'dicom') {
    return decodeDicom(bytes, {
      maxPixels,
      window: options.dicomWindow,
      frame: options.dicomFrame,
    });
  }
  return decodeWithSharp(bytes, format, maxPixels, options);
}

async function decodeWithSharp(
  bytes: Uint8Array,
  format: Exclude<ImageFormat, 'dicom'>,
  maxPixels: number,
  options: DecodeOptions,
): Promise<DecodedImage> {
  const name = FORMAT_NAMES[format];
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sharpOptions: sharp.SharpOptions = {
    // +1 so that our own check below, with its clearer message, is the one that fires.
    limitInputPixels: maxPixels + 1,
    failOn: 'error',
    ignoreIcc: true,
    autoOrient: options.autoOrient ?? true,
  };

  let meta: sharp.Metadata;
  try {
    // Reading the header allocates nothing big; the limit is checked below with a clear message.
    meta = await sharp(input, { ...sharpOptions, limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeFailure(name, err, missingEnd(format, bytes));
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      'too-large',
      `${name} image is ${width}x${height} (${pixelCount(width * height)}), over the ` +
        `${pixelCount(maxPixels, true)} limit`,
    );
  }
  // sharp would cast wider samples to 8 bits by clipping (a float image in 0..1 turns black),
  // and there is no one right scaling for them, so refuse clearly.
  const wide: Record<string, string> = {
    float: '32-bit float',
    double: '64-bit float',
    uint: '32-bit integer',
    int: '32-bit integer',
  };
  if (meta.depth && wide[meta.depth]) {
    throw new ImageDecodeError(
      'unsupported-format',
      `${name} with ${wide[meta.depth]} samples is not supported (8 or 16-bit integers only)`,
    );
  }
  const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2;
  try {
    const { data, info } = await sharp(input, sharpOptions)
      .removeAlpha()
      .toColourspace(grey ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) {
      throw new Error(`unexpected ${info.channels} channels after conversion`);
    }
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const plane = info.channels === 3 ? greyPlane(pixels) : undefined;
    return {
      width: info.width,
      height: info.height,
      channels: plane ? 1 : info.channels,
      data: plane ?? pixels,
      format,
      bitDepth: bitsOf(meta.depth),
    };
  } catch (err) {
    throw decodeFailure(name, err, missingEnd(format, bytes));
  }
}

/**
 * The one plane of an RGB image whose every pixel is grey (R = G = B: X-rays saved as colour
 * JPEGs or PNGs), else undefined. Such an image decodes to 1 channel: preprocessing replicates
 * it into the same tensor and the overlay blends the same values, at a third of the work and
 * memory. Stops at the first coloured pixel, so colour images cost little more than a glance.
 */
function greyPlane(rgb: Uint8Array): Uint8Array | undefined {
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = rgb[p];
    if (r !== rgb[p + 1] || r !== rgb[p + 2]) return undefined;
    out[i] = r;
  }
  return out;
}

/**
 * A JPEG without its end-of-image marker or a PNG without IEND was cut short, whatever libjpeg
 * or libspng says about the bytes where the data stops (that message varies with the cut).
 */
function missingEnd(format: string, bytes: Uint8Array): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 64));
  const has = (...marker: number[]) =>
    tail.some((_, i) => marker.every((m, k) => tail[i + k] === m));
  if (format === 'jpeg') return !has(0xff, 0xd9);
  if (format === 'png') return !has(0x49, 0x45, 0x4e, 0x44); // IEND
  return false;
}

function decodeFailure(name: string, err: unknown, cutShort = false): ImageDecodeError {
  const detail = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(detail)) {
    return new ImageDecodeError('too-large', `${name} image exceeds the pixel limit (${detail})`);
  }
  if (cutShort || TRUNCATED.test(detail)) {
    return new ImageDecodeError('truncated', `${name} data is truncated (${detail})`);
  }
  return new ImageDecodeError('corrupt', `${name} data is corrupt (${detail})`);
}

function bitsOf(depth: string | undefined): number {
  return depth === 'ushort' || depth === 'short' ? 16 : 8;
}

/** "900 MP" for big counts, "1200 pixels" (or "1200-pixel" before a noun) for small ones. */
function pixelCount(n: number, adjective = false): string {
  if (n >= 100_000) return `${Math.round(n / 1e5) / 10} MP`;
  return adjective ? `${n}-pixel` : `${n} pixels`;
}
