/**
 * Rendering heatmaps: colourised overlays on the image (PNG, JPEG or WebP via sharp) and the
 * raw map as a 16-bit greyscale PNG. Defaults are the seed's: jet, gamma 2, alpha 0.4.
 *
 * Everything is table-driven so that a megapixel costs a few milliseconds of JavaScript: the
 * colour index comes from `heatIndexer` (no `pow` per pixel) and the blend from a per-channel
 * table of every (colour index, image value) pair, both equal to the direct formulas. The row
 * writers (`OverlayRows`, `Grey16Rows`) take one heat row at a time, so `renderExplanation` can
 * stream the CAM field through them without materialising the full-resolution map.
 */
import { endianness } from 'node:os';
import { promisify } from 'node:util';
import { crc32, deflate, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Heatmap } from './cammap.js';
import {
  type ColormapName,
  colormapLut,
  type HeatIndexer,
  heatIndex,
  heatIndexer,
} from './colormap.js';
import { type DecodeOptions, decodeImage } from './decode.js';
import type { Rect } from './geometry.js';
import type { Pixels } from './resample.js';
import { drawUnseen } from './unseen.js';

export type OutputFormat = 'png' | 'jpeg' | 'webp';

/**
 * Default zlib level of the PNGs written here: 1, the fastest. On a 1024x1024 overlay level 6
 * (sharp's default) makes files about a quarter smaller but costs three times as long.
 */
export const DEFAULT_PNG_COMPRESSION = 1;

export interface ColorizeOptions {
  /** Default `jet` (the seed). */
  colormap?: ColormapName;
  /** The map is raised to this power before colouring; default 2 (the seed squares it). */
  gamma?: number;
}

/** Where the model looked: pixels outside `view` are drawn as not seen (see `unseen.ts`). */
export interface ViewOption {
  /**
   * The model's view in the image's pixels (`seenRegion`): outside it the image is drawn dimmed
   * grey and hatched, without heat colour. Default: all of the image (nothing drawn as unseen).
   */
  view?: Rect;
}

export interface OverlayOptions extends ColorizeOptions, ViewOption {
  /** Weight of the heat colour over the image, 0..1; default 0.4 (the seed). */
  alpha?: number;
  /** Default `png`. */
  format?: OutputFormat;
  /** JPEG/WebP quality 1..100; default 90. */
  quality?: number;
  /** PNG zlib level 0..9 (overlay and 16-bit heatmap); default `DEFAULT_PNG_COMPRESSION` (1). */
  compressionLevel?: number;
  /** Decoding options when the image is given as bytes. */
  decode?: DecodeOptions;
}

function checkSameSize(image: Pixels, heat: Heatmap) {
  if (image.width !== heat.width || image.height !== heat.height) {
    throw new RangeError(
      `heatmap is ${heat.width}x${heat.height} but the image is ${image.width}x${image.height}: ` +
        'map the CAM with camToOriginal (or camToTensor for the tensor image) first',
    );
  }
}

function checkAlpha(alpha: number) {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
}

function checkLevel(level: number) {
  if (!(Number.isInteger(level) && level >= 0 && level <= 9)) {
    throw new RangeError(`compressionLevel must be an integer 0..9, got ${level}`);
  }
}

/** Writes the colour index of each heat value in `heat[from .. to)` into `out` (same places). */
function indexRow(
  heat: Float32Array,
  from: number,
  to: number,
  ix: HeatIndexer | undefined,
  gamma: number,
  out: Uint8Array,
) {
  if (gamma === 2) {
    // The seed's square, directly: (h * h * 256) | 0 is floor(h ** 2 * 256) (h * h is exactly
    // what h ** 2 gives), below 256 for h < 1.
    for (let x = from; x < to; x++) {
      const h = heat[x];
      out[x] = h > 0 ? (h < 1 ? (h * h * 256) | 0 : 255) : 0; // NaN too
    }
    return;
  }
  if (!ix) {
    for (let x = from; x < to; x++) out[x] = heatIndex(heat[x], gamma);
    return;
  }
  const { coarse, thresholds } = ix;
  const k0 = coarse[0];
  for (let x = from; x < to; x++) {
    const h = heat[x];
    if (h > 0) {
      const c = Math.min(h, 1);
      let k = coarse[(c * 4096) | 0];
      while (k < 255 && c >= thresholds[k + 1]) k++;
      out[x] = k;
    } else out[x] = k0; // also NaN, as the direct formula
  }
}

/** The heatmap's colour per pixel: colormap(clamp(heat, 0, 1) ^ gamma) as 8-bit RGB. */
export function colorizeHeatmap(heat: Heatmap, options: ColorizeOptions = {}): Pixels {
  const lut = colormapLut(options.colormap ?? 'jet');
  const gamma = options.gamma ?? 2;
  const n = heat.width * heat.height;
  const rgb = new Uint8Array(768);
  for (let i = 0; i < 768; i++) rgb[i] = Math.round(lut[i] * 255);
  const index = new Uint8Array(n);
  indexRow(heat.data, 0, n, heatIndexer(gamma), gamma, index);
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = index[i] * 3;
    data[i * 3] = rgb[k];
    data[i * 3 + 1] = rgb[k + 1];
    data[i * 3 + 2] = rgb[k + 2];
  }
  return { width: heat.width, height: heat.height, channels: 3, data };
}

const blends = new Map<string, Uint8Array>();

/**
 * Every blend result: entry `(c << 16) | (k << 8) | v` is
 * `round((1 - alpha) * v + alpha * 255 * lut[k][c])` for channel c, colour index k and image
 * value v (192 KB, cached per colormap and alpha).
 */
function blendTable(colormap: ColormapName, alpha: number): Uint8Array {
  const key = `${colormap}:${alpha}`;
  let table = blends.get(key);
  if (table) return table;
  const lut = colormapLut(colormap);
  table = new Uint8Array(3 << 16);
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < 256; k++) {
      const colour = alpha * 255 * lut[k * 3 + c];
      const at = (c << 16) | (k << 8);
      for (let v = 0; v < 256; v++) table[at | v] = Math.round((1 - alpha) * v + colour);
    }
  }
  if (blends.size > 16) blends.clear();
  blends.set(key, table);
  return table;
}

const packed = new Map<Uint8Array, Uint32Array>();

/**
 * The blend table for a grey image as whole RGBA pixels: entry `(k << 8) | v` holds the three
 * blended channels and an opaque alpha, little-endian, so a pixel is one lookup and one store.
 */
function packedTable(table: Uint8Array): Uint32Array {
  let t = packed.get(table);
  if (t) return t;
  t = new Uint32Array(1 << 16);
  for (let i = 0; i < 1 << 16; i++)
    t[i] = (table[i] | (table[65536 | i] << 8) | (table[131072 | i] << 16) | 0xff000000) >>> 0;
  if (packed.size > 16) packed.clear();
  packed.set(table, t);
  return t;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The overlay written row by row: `row(y, heat)` blends row y of the image with the heat row
 * (the image's width of values). `pixels` is the RGB result. `row(y, heat, from, to)` says the
 * heat is 0 outside columns `from .. to - 1` (the renderer knows where the crop ends), which
 * saves looking those values up.
 */
export class OverlayRows {
  readonly pixels: Pixels;
  private readonly image: Pixels;
  private readonly table: Uint8Array;
  private readonly indexer: HeatIndexer | undefined;
  private readonly gamma: number;
  private readonly index: Uint8Array;
  /** The colour index of heat 0. */
  private readonly zeroIndex: number;

  /** Grey images with `rgba`: whole pixels at a time (see packedTable). */
  private readonly packed?: { table: Uint32Array; out: Uint32Array };
  /** The model's view when it leaves part of the image out. */
  private readonly view?: Rect;

  /**
   * `rgba: true` lets the result be 4 channels (alpha opaque) when that is faster (grey images:
   * one table lookup per pixel); `encodePixels` drops the alpha. Default: always RGB.
   */
  constructor(
    image: Pixels,
    options: ColorizeOptions & ViewOption & { alpha?: number; rgba?: boolean } = {},
  ) {
    const alpha = options.alpha ?? 0.4;
    checkAlpha(alpha);
    this.image = image;
    const v = options.view;
    if (
      v &&
      !(
        v.left <= 0 &&
        v.top <= 0 &&
        v.left + v.width >= image.width &&
        v.top + v.height >= image.height
      )
    )
      this.view = v;
    this.gamma = options.gamma ?? 2;
    this.table = blendTable(options.colormap ?? 'jet', alpha);
    this.indexer = heatIndexer(this.gamma);
    this.index = new Uint8Array(image.width);
    this.zeroIndex = heatIndex(0, this.gamma);
    const four = options.rgba === true && image.channels === 1 && LITTLE_ENDIAN;
    const channels = four ? 4 : 3;
    // Its own zeroed ArrayBuffer (not a slice of Node's pool): sharp reads it without a copy.
    const buffer = Buffer.alloc(image.width * image.height * channels).buffer;
    if (four) this.packed = { table: packedTable(this.table), out: new Uint32Array(buffer) };
    const data = new Uint8Array(buffer);
    this.pixels = { width: image.width, height: image.height, channels, data };
  }

  row(y: number, heat: Float32Array, from = 0, to: number = this.image.width): void {
    const { width, channels, data } = this.image;
    const index = this.index;
    if (to <= from) index.fill(this.zeroIndex);
    else {
      if (from > 0) index.fill(this.zeroIndex, 0, from);
      if (to < width) index.fill(this.zeroIndex, to, width);
      indexRow(heat, from, to, this.indexer, this.gamma, index);
    }
    const out = this.pixels.data;
    if (this.packed) {
      const { table, out: out32 } = this.packed;
      const s0 = y * width;
      for (let x = 0; x < width; x++) out32[s0 + x] = table[(index[x] << 8) | data[s0 + x]];
    } else if (channels === 1) blendGrey(index, data, y * width, this.table, out, width);
    else if (channels === 3) blendRgb(index, data, y * width * 3, this.table, out, width);
    else blendAny(index, data, channels, y * width, this.table, out, width);
    const v = this.view;
    if (!v) return;
    const oc = this.pixels.channels;
    const left = Math.max(0, Math.min(width, v.left));
    const right = Math.max(left, Math.min(width, v.left + v.width));
    if (y < v.top || y >= v.top + v.height || right <= left)
      drawUnseen(data, channels, width, y, 0, width, out, oc);
    else {
      drawUnseen(data, channels, width, y, 0, left, out, oc);
      drawUnseen(data, channels, width, y, right, width, out, oc);
    }
  }
}

function blendGrey(
  index: Uint8Array,
  src: Uint8Array,
  s: number,
  t: Uint8Array,
  out: Uint8Array,
  w: number,
) {
  let o = s * 3;
  for (let x = 0; x < w; x++) {
    const a = (index[x] << 8) | src[s + x];
    out[o] = t[a];
    out[o + 1] = t[65536 | a];
    out[o + 2] = t[131072 | a];
    o += 3;
  }
}

/** Other layouts (e.g. RGBA pixels): the first three channels, as the formula always read. */
function blendAny(
  index: Uint8Array,
  src: Uint8Array,
  channels: number,
  first: number,
  t: Uint8Array,
  out: Uint8Array,
  w: number,
) {
  for (let x = 0; x < w; x++) {
    const k = index[x] << 8;
    const i = first + x;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = t[(c << 16) | k | src[i * channels + c]];
  }
}

function blendRgb(
  index: Uint8Array,
  src: Uint8Array,
  o: number,
  t: Uint8Array,
  out: Uint8Array,
  w: number,
) {
  for (let x = 0; x < w; x++) {
    const k = index[x] << 8;
    out[o] = t[k | src[o]];
    out[o + 1] = t[65536 | k | src[o + 1]];
    out[o + 2] = t[131072 | k | src[o + 2]];
    o += 3;
  }
}

/**
 * Blends the colourised heatmap over the image: `(1 - alpha) * image + alpha * colour`, in RGB
 * (a grey image is repeated over the three channels). Same size required. With `view`, pixels
 * outside it are drawn as not seen by the model instead (dimmed grey, hatched).
 */
export function overlayPixels(
  image: Pixels,
  heat: Heatmap,
  options: ColorizeOptions & ViewOption & { alpha?: number } = {},
): Pixels {
  checkSameSize(image, heat);
  const rows = new OverlayRows(image, options);
  const w = image.width;
  for (let y = 0; y < image.height; y++) rows.row(y, heat.data.subarray(y * w, (y + 1) * w));
  return rows.pixels;
}

/**
 * Encodes 8-bit pixels (1 or 3 channels, or 4 whose alpha is dropped) as PNG (zlib level `compressionLevel`, no filtering:
 * the fastest), JPEG or WebP.
 */
export async function encodePixels(
  pixels: Pixels,
  format: OutputFormat = 'png',
  quality = 90,
  compressionLevel = DEFAULT_PNG_COMPRESSION,
): Promise<Uint8Array> {
  checkLevel(compressionLevel);
  const channels = pixels.channels as 1 | 3 | 4;
  let image = sharp(pixels.data, {
    raw: { width: pixels.width, height: pixels.height, channels },
  });
  // 4 channels: RGB with an opaque alpha (OverlayRows' fast layout), written as RGB.
  if (channels === 4) image = image.removeAlpha();
  image = image.toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const encoded =
    format === 'png'
      ? image.png({ compressionLevel, adaptiveFiltering: false })
      : format === 'jpeg'
        ? // Standard Huffman tables: the same pixels, 8% more bytes, less than half the CPU
          // (mozjpeg's optimised coding is a second pass over the coefficients).
          image.jpeg({ quality, optimiseCoding: false })
        : image.webp({ quality });
  const out = await encoded.toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The overlay as an encoded image at the image's own resolution. `image` is encoded bytes (as
 * uploaded) or decoded pixels; `heat` must have the same size (from `camToOriginal`).
 */
export async function renderOverlay(
  image: Uint8Array | Pixels,
  heat: Heatmap,
  options: OverlayOptions = {},
): Promise<Uint8Array> {
  const pixels = image instanceof Uint8Array ? await decodeImage(image, options.decode) : image;
  return encodePixels(
    overlayPixels(pixels, heat, options),
    options.format,
    options.quality,
    options.compressionLevel,
  );
}

const deflateAsync = promisify(deflate);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A 16-bit greyscale PNG written row by row: sample `round(clamp(heat, 0, 1) * 65535)`, stored
 * with PNG's "Up" filter (heatmaps are smooth, so rows differ little and compress well).
 */
export class Grey16Rows {
  readonly width: number;
  readonly height: number;
  /** The filtered scanlines: a filter byte then 2 * width bytes per row. */
  private readonly rows: Buffer;
  private readonly previous: Uint16Array;
  /** Where the previous row's samples may be nonzero. */
  private previousSpan: [number, number] = [0, 0];

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.rows = Buffer.alloc(height * (width * 2 + 1));
    this.previous = new Uint16Array(width);
  }

  /**
   * Row `y` (rows must come in order, top to bottom, each once). With `from` and `to`, the heat
   * is 0 outside columns `from .. to - 1`: the filtered bytes there are 0 wherever the row above
   * was 0 too, and are left as they are (the buffer starts zeroed).
   */
  row(y: number, heat: Float32Array, from = 0, to: number = this.width): void {
    const rows = this.rows;
    const prev = this.previous;
    const [pf, pt] = this.previousSpan;
    const [a, b] =
      to > from ? (pt > pf ? [Math.min(from, pf), Math.max(to, pt)] : [from, to]) : [pf, pt];
    this.previousSpan = to > from ? [from, to] : [0, 0];
    const start = y * (this.width * 2 + 1);
    rows[start] = 2; // Up
    let at = start + 1 + 2 * a;
    for (let x = a; x < b; x++) {
      const v = heat[x];
      // (v * 65535 + 0.5) | 0 is Math.round here: v * 65535 is exact for a float32 v, and so is
      // adding 0.5 whenever the sum is near a rounding boundary.
      const s = v > 0 ? (v < 1 ? (v * 65535 + 0.5) | 0 : 65535) : 0;
      const above = prev[x];
      // Up works bytewise on the big-endian bytes, modulo 256.
      rows[at++] = (s >> 8) - (above >> 8);
      rows[at++] = (s & 0xff) - (above & 0xff);
      prev[x] = s;
    }
  }

  private assemble(idat: Uint8Array): Uint8Array {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.width, 0);
    ihdr.writeUInt32BE(this.height, 4);
    ihdr.set([16, 0, 0, 0, 0], 8);
    return new Uint8Array(
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', idat),
        chunk('IEND', new Uint8Array(0)),
      ]),
    );
  }

  /** The PNG, compressed in this thread. */
  pngSync(compressionLevel = DEFAULT_PNG_COMPRESSION): Uint8Array {
    checkLevel(compressionLevel);
    return this.assemble(deflateSync(this.rows, { level: compressionLevel }));
  }

  /** The PNG, compressed on libuv's thread pool (in parallel with other work). */
  async png(compressionLevel = DEFAULT_PNG_COMPRESSION): Promise<Uint8Array> {
    checkLevel(compressionLevel);
    return this.assemble(await deflateAsync(this.rows, { level: compressionLevel }));
  }
}

/**
 * The heatmap as a 16-bit greyscale PNG: `round(clamp(heat, 0, 1) * 65535)`, linear (no
 * gamma), for analysis tools that want the values rather than colours. Written by our own small
 * encoder so the samples are exactly these.
 */
export function renderHeatmap16(
  heat: Heatmap,
  options: { compressionLevel?: number } = {},
): Uint8Array {
  const out = new Grey16Rows(heat.width, heat.height);
  const w = heat.width;
  for (let y = 0; y < heat.height; y++) out.row(y, heat.data.subarray(y * w, (y + 1) * w));
  return out.pngSync(options.compressionLevel);
}
