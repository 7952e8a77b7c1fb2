/**
 * Per-image numbers an audit reports about a heatmap at source resolution: where it peaks, how
 * spread out it is, how much of it sits in the image border (hospital markers, burned-in text)
 * and how much inside a region of interest (the lesion, the lungs).
 * "Energy" is the sum of the (normalised, linear) heatmap values.
 */
import type { Heatmap } from './cammap.js';
import { decodeImage, sniffFormat } from './decode.js';
import { ImageDecodeError } from './errors.js';
import type { Size } from './geometry.js';
import { resizePixels } from './resample.js';

/** A binary region: nonzero bytes are inside. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface CamStatsOptions {
  /** Width of the border band as a fraction of each side (0..0.5); default 0.1. */
  border?: number;
  /**
   * A region to measure: a `Mask`, a raw Uint8Array of width * height bytes (nonzero inside),
   * or an encoded image (PNG...) where pixels >= 128 are inside. Resized (nearest) to the
   * heatmap's size if it differs.
   */
  mask?: Mask | Uint8Array;
}

export interface CamStats {
  /** Peak position in normalised image coordinates (pixel centre / size, 0..1) and value. */
  peak: { x: number; y: number; value: number } | null;
  /** Shannon entropy of the map as a distribution (bits); null for an all-zero map. */
  entropy: number | null;
  /** Entropy divided by its maximum log2(pixels): 1 = uniform, near 0 = one hot spot. */
  normalizedEntropy: number | null;
  /** Fraction of the energy in the border band. */
  borderEnergy: number | null;
  /** The border band's share of the image area (what a uniform map would score). */
  borderArea: number;
  /** Fraction of the energy inside the mask (only with a mask). */
  maskEnergy?: number | null;
  /** The mask's share of the image area (only with a mask). */
  maskArea?: number;
  /** Whether the peak pixel lies inside the mask: the pointing game (only with a mask). */
  peakInMask?: boolean | null;
}

/** Decodes a mask image (PNG, ...): pixels >= 128 (any channel) are inside. */
export async function decodeMask(bytes: Uint8Array, size?: Size): Promise<Mask> {
  const image = await decodeImage(bytes);
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < image.channels; c++) {
      if (image.data[i * image.channels + c] >= 128) data[i] = 1;
    }
  }
  const mask = { width: image.width, height: image.height, data };
  return size ? fitMask(mask, size) : mask;
}

function fitMask(mask: Mask, size: Size): Mask {
  if (mask.width === size.width && mask.height === size.height) return mask;
  const resized = resizePixels({ ...mask, channels: 1 }, size.width, size.height, 'nearest');
  return { width: size.width, height: size.height, data: resized.data };
}

async function toMask(mask: Mask | Uint8Array, size: Size): Promise<Mask> {
  if (!(mask instanceof Uint8Array)) return fitMask(mask, size);
  if (mask.length === size.width * size.height && !sniffFormat(mask)) {
    return { ...size, data: mask };
  }
  if (!sniffFormat(mask)) {
    throw new ImageDecodeError(
      'unsupported-format',
      `mask has ${mask.length} bytes: neither ${size.width}x${size.height} raw bytes nor an image`,
    );
  }
  return decodeMask(mask, size);
}

/** Statistics of a heatmap (values >= 0, e.g. from `camToOriginal`). */
export async function camStats(heat: Heatmap, options: CamStatsOptions = {}): Promise<CamStats> {
  const { width, height, data } = heat;
  const border = options.border ?? 0.1;
  if (!(border >= 0 && border <= 0.5))
    throw new RangeError(`border must be in [0, 0.5], got ${border}`);
  const mask = options.mask ? await toMask(options.mask, { width, height }) : undefined;

  let total = 0;
  let inBorder = 0;
  let inMask = 0;
  let borderPixels = 0;
  let maskPixels = 0;
  let peak = -1;
  for (let y = 0; y < height; y++) {
    const ny = (y + 0.5) / height;
    const rowInBorder = ny < border || ny > 1 - border;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = Math.max(0, data[i] || 0); // NaN counts as 0
      const nx = (x + 0.5) / width;
      const isBorder = rowInBorder || nx < border || nx > 1 - border;
      total += v;
      if (isBorder) {
        inBorder += v;
        borderPixels++;
      }
      if (mask?.data[i]) {
        inMask += v;
        maskPixels++;
      }
      if (v > 0 && (peak < 0 || v > data[peak])) peak = i;
    }
  }

  let entropy: number | null = null;
  if (total > 0) {
    entropy = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] > 0) {
        const p = data[i] / total;
        entropy -= p * Math.log2(p);
      }
    }
  }
  const n = width * height;
  const stats: CamStats = {
    peak:
      peak < 0
        ? null
        : {
            x: ((peak % width) + 0.5) / width,
            y: (Math.floor(peak / width) + 0.5) / height,
            value: data[peak],
          },
    entropy,
    normalizedEntropy: entropy === null ? null : n > 1 ? entropy / Math.log2(n) : 0,
    borderEnergy: total > 0 ? inBorder / total : null,
    borderArea: n > 0 ? borderPixels / n : 0,
  };
  if (mask) {
    stats.maskEnergy = total > 0 ? inMask / total : null;
    stats.maskArea = n > 0 ? maskPixels / n : 0;
    stats.peakInMask = peak < 0 ? null : mask.data[peak] !== 0;
  }
  return stats;
}
