/**
 * Mapping a CAM (the hooked layer's resolution, e.g. 8x8) onto images: at the tensor size as
 * the seed draws it, or onto the original image through the preprocessing geometry.
 *
 * The CAM is first normalised (ReLU, divided by its maximum, as the seed does). It is then
 * treated as a continuous field over the tensor, interpolated Pillow-style (bicubic a = -0.5 by
 * default, as the seed's PIL resize; or bilinear, nearest), and sampled at each output pixel's
 * centre. At the tensor size this is exactly Pillow's resize of a mode 'F' image; on the
 * original it is the same field seen through the crop and resize. Values are clamped to [0, 1]
 * (bicubic overshoots slightly; the seed then squares negatives into heat).
 */
import type { Geometry, Size } from './geometry.js';
import { resampleFloat, type Taps, tapsAt } from './resample.js';

/** A row-major single-channel map; the CLI's `cam` JSON object has this shape. */
export interface CamGrid {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** A heatmap in [0, 1], row-major. */
export interface Heatmap {
  width: number;
  height: number;
  data: Float32Array;
}

export type CamInterpolation = 'bicubic' | 'bilinear' | 'nearest';

export interface CamMapOptions {
  /** Default `bicubic` (the seed). */
  interpolation?: CamInterpolation;
  /** Divide by the maximum after ReLU (default true, the seed); false keeps raw values. */
  normalize?: boolean;
}

/**
 * ReLU and divide by the maximum; an all-zero (or non-finite) CAM stays all zero instead of
 * becoming NaN.
 */
export function normalizeCam(cam: CamGrid): Heatmap {
  const n = cam.width * cam.height;
  if (cam.data.length !== n) {
    throw new RangeError(
      `CAM data has ${cam.data.length} values, expected ${cam.width}x${cam.height}`,
    );
  }
  const out = new Float32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = cam.data[i];
    out[i] = v > 0 && Number.isFinite(v) ? v : 0;
    if (out[i] > max) max = out[i];
  }
  if (max > 0) for (let i = 0; i < n; i++) out[i] /= max;
  return { width: cam.width, height: cam.height, data: out };
}

function prepare(cam: CamGrid, options: CamMapOptions): Heatmap {
  if (options.normalize ?? true) return normalizeCam(cam);
  const data = Float32Array.from(cam.data);
  return { width: cam.width, height: cam.height, data };
}

/** Taps sampling `inSize` cells at `centres`; nearest picks the cell containing the centre. */
function taps(
  inSize: number,
  centres: Float64Array,
  interpolation: CamInterpolation,
  filterscale: number,
): Taps {
  if (interpolation !== 'nearest') return tapsAt(inSize, centres, interpolation, filterscale);
  const n = centres.length;
  const start = new Int32Array(n);
  for (let i = 0; i < n; i++) start[i] = Math.min(inSize - 1, Math.max(0, Math.floor(centres[i])));
  return {
    start,
    count: new Int32Array(n).fill(1),
    weights: new Float64Array(n).fill(1),
    ksize: 1,
  };
}

function clamp01(map: Float32Array, clamp: boolean): Float32Array {
  if (clamp) for (let i = 0; i < map.length; i++) map[i] = Math.min(1, Math.max(0, map[i]));
  return map;
}

/**
 * The seed's picture: the CAM resized to the tensor size (e.g. 8x8 -> 256x256), as Pillow
 * resizes a float image. Draw it over the preprocessed image (`tensorPixels`).
 */
export function camToTensor(cam: CamGrid, tensor: Size, options: CamMapOptions = {}): Heatmap {
  const grid = prepare(cam, options);
  const interpolation = options.interpolation ?? 'bicubic';
  const axis = (inSize: number, outSize: number) => {
    const scale = inSize / outSize;
    const centres = Float64Array.from({ length: outSize }, (_, i) => (i + 0.5) * scale);
    return taps(inSize, centres, interpolation, scale);
  };
  const data = resampleFloat(
    grid.data,
    grid.width,
    grid.height,
    axis(grid.width, tensor.width),
    axis(grid.height, tensor.height),
  );
  return {
    width: tensor.width,
    height: tensor.height,
    data: clamp01(data, options.normalize ?? true),
  };
}

/**
 * The CAM on the original image at its full resolution, through the preprocessing geometry:
 * each original pixel samples the CAM field where its centre lands in the tensor. Pixels the
 * centre crop cut away get 0 (the model never saw them).
 */
export function camToOriginal(
  cam: CamGrid,
  geometry: Geometry,
  options: CamMapOptions = {},
): Heatmap {
  const grid = prepare(cam, options);
  const interpolation = options.interpolation ?? 'bicubic';
  const { original, resized, crop, padding, tensor } = geometry;
  const out = new Float32Array(original.width * original.height);

  // Per axis: the range of original pixels whose centres fall inside the crop, and where those
  // centres land on the CAM grid.
  const axis = (
    origSize: number,
    resizedSize: number,
    cropStart: number,
    cropSize: number,
    pad: number,
    tensorSize: number,
    camSize: number,
  ) => {
    const toResized = resizedSize / origSize;
    const toCam = camSize / tensorSize;
    let first = -1;
    let last = -1;
    for (let i = 0; i < origSize; i++) {
      const r = (i + 0.5) * toResized;
      if (r >= cropStart && r < cropStart + cropSize) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) return undefined;
    const centres = new Float64Array(last - first + 1);
    for (let i = first; i <= last; i++) {
      centres[i - first] = ((i + 0.5) * toResized - cropStart + pad) * toCam;
    }
    // Antialias only if one original pixel spans more than one CAM cell (a tiny original).
    return { first, taps: taps(camSize, centres, interpolation, toResized * toCam) };
  };

  const xs = axis(
    original.width,
    resized.width,
    crop.left,
    crop.width,
    padding.left,
    tensor.width,
    grid.width,
  );
  const ys = axis(
    original.height,
    resized.height,
    crop.top,
    crop.height,
    padding.top,
    tensor.height,
    grid.height,
  );
  if (!xs || !ys) return { ...original, data: out };
  const block = clamp01(
    resampleFloat(grid.data, grid.width, grid.height, xs.taps, ys.taps),
    options.normalize ?? true,
  );
  const bw = xs.taps.start.length;
  const bh = ys.taps.start.length;
  for (let y = 0; y < bh; y++) {
    out.set(block.subarray(y * bw, (y + 1) * bw), (ys.first + y) * original.width + xs.first);
  }
  return { width: original.width, height: original.height, data: out };
}
