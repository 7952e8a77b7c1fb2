/**
 * Rendering heatmaps: colourised overlays on the image (PNG, JPEG or WebP via sharp) and the
 * raw map as a 16-bit greyscale PNG. Defaults are the seed's: jet, gamma 2, alpha 0.4.
 */
import sharp from 'sharp';
import type { Heatmap } from './cammap.js';
import { type ColormapName, colormapIndex, colormapLut } from './colormap.js';
import { type DecodeOptions, decodeImage } from './decode.js';
import { encodeGrey16Png } from './png16.js';
import type { Pixels } from './resample.js';

export type OutputFormat = 'png' | 'jpeg' | 'webp';

export interface ColorizeOptions {
  /** Default `jet` (the seed). */
  colormap?: ColormapName;
  /** The map is raised to this power before colouring; default 2 (the seed squares it). */
  gamma?: number;
}

export interface OverlayOptions extends ColorizeOptions {
  /** Weight of the heat colour over the image, 0..1; default 0.4 (the seed). */
  alpha?: number;
  /** Default `png`. */
  format?: OutputFormat;
  /** JPEG/WebP quality 1..100; default 90. */
  quality?: number;
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

/** The heatmap's colour per pixel: colormap(clamp(heat, 0, 1) ^ gamma) as 8-bit RGB. */
export function colorizeHeatmap(heat: Heatmap, options: ColorizeOptions = {}): Pixels {
  const lut = colormapLut(options.colormap ?? 'jet');
  const gamma = options.gamma ?? 2;
  const n = heat.width * heat.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = colormapIndex(Math.min(1, Math.max(0, heat.data[i])) ** gamma) * 3;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(lut[k + c] * 255);
  }
  return { width: heat.width, height: heat.height, channels: 3, data };
}

/**
 * Blends the colourised heatmap over the image: `(1 - alpha) * image + alpha * colour`, in RGB
 * (a grey image is repeated over the three channels). Same size required.
 */
export function overlayPixels(
  image: Pixels,
  heat: Heatmap,
  options: ColorizeOptions & { alpha?: number } = {},
): Pixels {
  checkSameSize(image, heat);
  const alpha = options.alpha ?? 0.4;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const lut = colormapLut(options.colormap ?? 'jet');
  const gamma = options.gamma ?? 2;
  const n = heat.width * heat.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = colormapIndex(Math.min(1, Math.max(0, heat.data[i])) ** gamma) * 3;
    for (let c = 0; c < 3; c++) {
      const base = image.data[i * image.channels + (image.channels === 1 ? 0 : c)];
      data[i * 3 + c] = Math.round((1 - alpha) * base + alpha * 255 * lut[k + c]);
    }
  }
  return { width: image.width, height: image.height, channels: 3, data };
}

/** Encodes 8-bit pixels (1 or 3 channels) as PNG, JPEG or WebP. */
export async function encodePixels(
  pixels: Pixels,
  format: OutputFormat = 'png',
  quality = 90,
): Promise<Uint8Array> {
  const channels = pixels.channels as 1 | 3;
  const image = sharp(pixels.data, {
    raw: { width: pixels.width, height: pixels.height, channels },
  }).toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const encoded =
    format === 'png'
      ? image.png()
      : format === 'jpeg'
        ? image.jpeg({ quality })
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
  return encodePixels(overlayPixels(pixels, heat, options), options.format, options.quality);
}

/**
 * The heatmap as a 16-bit greyscale PNG: `round(clamp(heat, 0, 1) * 65535)`, linear (no
 * gamma), for analysis tools that want the values rather than colours.
 */
export function renderHeatmap16(heat: Heatmap): Uint8Array {
  const samples = new Uint16Array(heat.width * heat.height);
  for (let i = 0; i < samples.length; i++) {
    const v = heat.data[i];
    samples[i] = v > 0 ? Math.round(Math.min(1, v) * 65535) : 0;
  }
  return encodeGrey16Png(heat.width, heat.height, samples);
}
