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
import type { CamAlignment } from './card.js';
import type { Geometry, Rect, Size } from './geometry.js';
import { resampleFloat, type Taps, tapsAt } from './resample.js';

/**
 * Where a layer's cells sit on the model's input tensor, per axis as [x, y]: cell (i, j)'s
 * receptive field is centred on tensor pixel (origin + stride * i) (pixel indices). From the
 * engine (`ExplainResult.grid`), which derives it from the graph.
 */
export interface CellGrid {
  origin: [number, number];
  stride: [number, number];
}

/** A row-major single-channel map; the CLI's `cam` JSON object has this shape. */
export interface CamGrid {
  width: number;
  height: number;
  data: ArrayLike<number>;
  /**
   * Draw each cell at its receptive field's centre. Without it the map is resized like an
   * image (the seed, cv2.resize): cell i is centred at (i + 0.5) * tensor / cells, which for
   * stride-2 3x3 convolutions (ResNets) is (stride - 1) / 2 pixels right of and below where the
   * cell looks.
   */
  grid?: CellGrid;
}

/**
 * The CAM as a card's `align` draws it: with the layer's cell grid for `receptive-field` (when
 * the engine could derive one), without for `resize`. `grid` on the result says which applied.
 */
export function alignCam<T extends CamGrid>(
  cam: T,
  align: CamAlignment,
  grid: CellGrid | undefined,
): T {
  const { grid: _, ...rest } = cam;
  return (align === 'receptive-field' && grid ? { ...rest, grid } : rest) as T;
}

/** Continuous tensor coordinate (pixel p spans [p, p + 1)) -> continuous CAM coordinate. */
function tensorToCam(
  cam: CamGrid,
  axis: 0 | 1,
  tensorSize: number,
  camSize: number,
): { at: (t: number) => number; scale: number } {
  if (!cam.grid) {
    const scale = camSize / tensorSize;
    return { at: (t) => t * scale, scale };
  }
  const stride = cam.grid.stride[axis];
  const origin = cam.grid.origin[axis];
  if (!(stride > 0) || !Number.isFinite(origin)) {
    throw new RangeError(
      `CAM grid: stride must be > 0 and origin finite, got ${stride}, ${origin}`,
    );
  }
  return { at: (t) => (t - 0.5 - origin) / stride + 0.5, scale: 1 / stride };
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
  const axis = (a: 0 | 1, inSize: number, outSize: number) => {
    const { at, scale } = tensorToCam(cam, a, outSize, inSize);
    const centres = Float64Array.from({ length: outSize }, (_, i) => at(i + 0.5));
    return taps(inSize, centres, interpolation, scale);
  };
  const data = resampleFloat(
    grid.data,
    grid.width,
    grid.height,
    axis(0, grid.width, tensor.width),
    axis(1, grid.height, tensor.height),
  );
  return {
    width: tensor.width,
    height: tensor.height,
    data: clamp01(data, options.normalize ?? true),
  };
}

/** How one axis of the original image maps onto the CAM grid through the preprocessing. */
interface AxisMap {
  /** The original pixels whose centres fall inside the crop: `first .. first + count - 1`. */
  first: number;
  count: number;
  /** Original (continuous) coordinate -> CAM grid coordinate. */
  toCam: (x: number) => number;
  /** CAM cells per original pixel (antialias only if above 1: a tiny original). */
  filterscale: number;
}

/** The original pixels (one axis) whose centres land inside the crop, or undefined if none. */
function seenSpan(
  origSize: number,
  resizedSize: number,
  cropStart: number,
  cropSize: number,
): { first: number; count: number } | undefined {
  const toResized = resizedSize / origSize;
  let first = -1;
  let last = -1;
  for (let i = 0; i < origSize; i++) {
    const r = (i + 0.5) * toResized;
    if (r >= cropStart && r < cropStart + cropSize) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? undefined : { first, count: last - first + 1 };
}

/**
 * The model's view on the original image: the pixels whose centres land inside the crop, i.e.
 * what the model saw (all of the image unless a centre crop cut some away; letterbox bars and
 * stretches cut nothing). `geometry.original` may be a scaled copy's size (a smaller overlay).
 * 0x0 if no pixel centre lands in the crop.
 */
export function seenRegion(geometry: Geometry): Rect {
  const { original, resized, crop } = geometry;
  const xs = seenSpan(original.width, resized.width, crop.left, crop.width);
  const ys = seenSpan(original.height, resized.height, crop.top, crop.height);
  if (!xs || !ys) return { left: 0, top: 0, width: 0, height: 0 };
  return { left: xs.first, top: ys.first, width: xs.count, height: ys.count };
}

function axisMap(
  origSize: number,
  resizedSize: number,
  cropStart: number,
  cropSize: number,
  pad: number,
  toTensorCam: { at: (t: number) => number; scale: number },
): AxisMap | undefined {
  const toResized = resizedSize / origSize;
  const span = seenSpan(origSize, resizedSize, cropStart, cropSize);
  if (!span) return undefined;
  return {
    ...span,
    toCam: (x) => toTensorCam.at(x * toResized - cropStart + pad),
    filterscale: toResized * toTensorCam.scale,
  };
}

function axisMaps(grid: CamGrid, geometry: Geometry): [AxisMap, AxisMap] | undefined {
  const { original, resized, crop, padding, tensor } = geometry;
  const xs = axisMap(
    original.width,
    resized.width,
    crop.left,
    crop.width,
    padding.left,
    tensorToCam(grid, 0, tensor.width, grid.width),
  );
  const ys = axisMap(
    original.height,
    resized.height,
    crop.top,
    crop.height,
    padding.top,
    tensorToCam(grid, 1, tensor.height, grid.height),
  );
  return xs && ys ? [xs, ys] : undefined;
}

/**
 * The CAM field on the original image, one row at a time: what `camToOriginal` computes, without
 * materialising the whole map (a 3000x2000 map is 24 MB of floats). The renderer streams rows
 * through the overlay, the 16-bit heatmap and the statistics.
 */
export interface CamField {
  /** The original image's size. */
  image: Size;
  /**
   * The original pixels whose centres fall inside the crop; the field is 0 outside. Empty
   * (0x0) if there are none.
   */
  region: Rect;
  /**
   * Writes the field at row `y` of the region (0-based within it) into `out[0 .. region.width)`,
   * exactly the values `camToOriginal` gives for those pixels.
   */
  row(y: number, out: Float32Array): void;
}

/** The CAM mapped onto the original image through the geometry, row by row (see above). */
export function camField(cam: CamGrid, geometry: Geometry, options: CamMapOptions = {}): CamField {
  const grid = prepare(cam, options);
  const interpolation = options.interpolation ?? 'bicubic';
  const clamp = options.normalize ?? true;
  const image = { ...geometry.original };
  const maps = axisMaps(cam, geometry);
  if (!maps) {
    return { image, region: { left: 0, top: 0, width: 0, height: 0 }, row: () => {} };
  }
  const [xm, ym] = maps;
  const axisTaps = (m: AxisMap, camSize: number) => {
    const centres = new Float64Array(m.count);
    for (let i = 0; i < m.count; i++) centres[i] = m.toCam(m.first + i + 0.5);
    return taps(camSize, centres, interpolation, m.filterscale);
  };
  const xt = axisTaps(xm, grid.width);
  const yt = axisTaps(ym, grid.height);
  const bw = xm.count;
  // Horizontal pass over the CAM's rows (tiny: grid.height x region width), then each output row
  // is a weighted sum of a few of these: the same operations, in the same order and precision,
  // as resampleFloat (float32 intermediate and result, double sums).
  const temp = new Float32Array(grid.height * bw);
  for (let y = 0; y < grid.height; y++) {
    for (let x = 0; x < bw; x++) {
      let sum = 0;
      const k0 = x * xt.ksize;
      const s0 = y * grid.width + xt.start[x];
      for (let k = 0; k < xt.count[x]; k++) sum += grid.data[s0 + k] * xt.weights[k0 + k];
      temp[y * bw + x] = sum;
    }
  }
  // Clamping the double sum before storing it as float32 equals clamping the float32 value (a
  // sum just below 0 rounds to -0, which Math.max(0, -0) turns into 0 as well).
  const row = (y: number, out: Float32Array) => {
    const k0 = y * yt.ksize;
    const r0 = yt.start[y] * bw;
    const n = yt.count[y];
    const w = yt.weights;
    if (n === 4) {
      // The common bicubic case, unrolled (same summation order as the loop below).
      const a = r0;
      const b = r0 + bw;
      const c = r0 + 2 * bw;
      const d = r0 + 3 * bw;
      const wa = w[k0];
      const wb = w[k0 + 1];
      const wc = w[k0 + 2];
      const wd = w[k0 + 3];
      if (clamp) {
        for (let x = 0; x < bw; x++) {
          const v = 0 + temp[a + x] * wa + temp[b + x] * wb + temp[c + x] * wc + temp[d + x] * wd;
          // biome-ignore lint/complexity/useMathMinMax: the hot loop; plain compares are cheaper
          out[x] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      } else {
        for (let x = 0; x < bw; x++) {
          out[x] = 0 + temp[a + x] * wa + temp[b + x] * wb + temp[c + x] * wc + temp[d + x] * wd;
        }
      }
      return;
    }
    for (let x = 0; x < bw; x++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += temp[r0 + k * bw + x] * w[k0 + k];
      out[x] = clamp ? Math.min(1, Math.max(0, v)) : v;
    }
  };
  return {
    image,
    region: { left: xm.first, top: ym.first, width: xm.count, height: ym.count },
    row,
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
  const field = camField(cam, geometry, options);
  const { image, region } = field;
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < region.height; y++) {
    const at = (region.top + y) * image.width + region.left;
    field.row(y, out.subarray(at, at + region.width));
  }
  return { width: image.width, height: image.height, data: out };
}
