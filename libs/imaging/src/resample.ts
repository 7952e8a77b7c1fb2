/**
 * Separable resampling that reproduces Pillow's `Image.resize` (libImaging/Resample.c), which is
 * what torchvision's `Resize` runs on PIL images. sharp/libvips use different kernels and
 * rounding, so we do this ourselves to keep preprocessing within 1/255 of torchvision.
 *
 * Pillow, per axis: scale = in/out, filterscale = max(scale, 1) (antialiasing when shrinking),
 * support = filter support * filterscale, output i is centred at (i + 0.5) * scale, input j
 * contributes filter((j + 0.5 - centre) / filterscale), weights normalised to sum 1.
 * 8-bit images use 22-bit fixed-point weights, horizontal pass first with an 8-bit intermediate.
 */

export type ResampleFilter = 'bilinear' | 'bicubic' | 'nearest';

/** Contributions of input samples to each output sample along one axis. */
export interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** `count[i]` weights of output i at `weights[i * ksize]`. */
  weights: Float64Array;
  ksize: number;
}

const SUPPORT: Record<'bilinear' | 'bicubic', number> = { bilinear: 1, bicubic: 2 };

function kernel(filter: 'bilinear' | 'bicubic', x: number): number {
  const ax = Math.abs(x);
  if (filter === 'bilinear') return ax < 1 ? 1 - ax : 0;
  // Pillow's bicubic uses a = -0.5 (Keys).
  const a = -0.5;
  if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0;
}

/**
 * Taps for sampling a signal of `inSize` samples at arbitrary centres (in input pixel units,
 * pixel j spans [j, j + 1)), Pillow style. `filterscale` >= 1 widens the kernel to antialias.
 */
export function tapsAt(
  inSize: number,
  centres: ArrayLike<number>,
  filter: 'bilinear' | 'bicubic',
  filterscale: number,
): Taps {
  const fs = Math.max(1, filterscale);
  const support = SUPPORT[filter] * fs;
  const ksize = Math.ceil(support) * 2 + 1;
  const n = centres.length;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float64Array(n * ksize);
  for (let i = 0; i < n; i++) {
    const centre = centres[i];
    // Math.trunc mirrors C's (int) cast, which Pillow uses to round these bounds.
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(centre + support + 0.5));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = kernel(filter, (j - centre + 0.5) / fs);
      weights[i * ksize + j - lo] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < hi - lo; j++) weights[i * ksize + j] /= total;
    start[i] = lo;
    count[i] = Math.max(0, hi - lo);
  }
  return { start, count, weights, ksize };
}

/** Pillow's taps for resizing `inSize` to `outSize`, for outputs `first .. first + n - 1`. */
export function resizeTaps(
  inSize: number,
  outSize: number,
  filter: 'bilinear' | 'bicubic',
  first = 0,
  n = outSize - first,
): Taps {
  const scale = inSize / outSize;
  const centres = new Float64Array(n);
  for (let i = 0; i < n; i++) centres[i] = (first + i + 0.5) * scale;
  return tapsAt(inSize, centres, filter, scale);
}

/** Pillow's nearest-neighbour source indices (ImagingScaleAffine: accumulated, truncated). */
function nearestIndices(inSize: number, outSize: number, first: number, n: number): Int32Array {
  const step = inSize / outSize;
  const out = new Int32Array(n);
  let pos = step * 0.5;
  for (let i = 0; i < first + n; i++) {
    if (i >= first) out[i - first] = Math.min(inSize - 1, pos < 0 ? 0 : Math.trunc(pos));
    pos += step;
  }
  return out;
}

/** An interleaved 8-bit image. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** Which part of the resized image to produce: the whole of it by default. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function fixedPoint(taps: Taps): Int32Array {
  const out = new Int32Array(taps.weights.length);
  for (let i = 0; i < out.length; i++) {
    const w = taps.weights[i] * ONE;
    out[i] = w < 0 ? Math.trunc(w - 0.5) : Math.trunc(w + 0.5);
  }
  return out;
}

/**
 * Pillow's clip8 of a 32-bit fixed-point sum. The sums below are int32 arithmetic, as Pillow's
 * (`Math.imul` and `| 0`: V8 keeps them in integer registers), and the same values: no term or
 * partial sum leaves int32 for 8-bit samples and weights of at most 2^22 in magnitude.
 */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
}

const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Resizes an 8-bit image to `outWidth` x `outHeight` exactly as Pillow does, producing only
 * `window` of the result (each output pixel is computed the same way, so a crop of the full
 * resize is identical to resizing just the window).
 */
export function resizePixels(
  src: Pixels,
  outWidth: number,
  outHeight: number,
  filter: ResampleFilter,
  window: Window = { left: 0, top: 0, width: outWidth, height: outHeight },
): Pixels {
  const { width, height, channels, data } = src;
  const { left, top } = window;
  const ow = window.width;
  const oh = window.height;
  const out = new Uint8Array(ow * oh * channels);
  if (filter === 'nearest') {
    const xs = nearestIndices(width, outWidth, left, ow);
    const ys = nearestIndices(height, outHeight, top, oh);
    for (let y = 0; y < oh; y++) {
      const row = ys[y] * width;
      for (let x = 0; x < ow; x++) {
        const s = (row + xs[x]) * channels;
        const d = (y * ow + x) * channels;
        for (let c = 0; c < channels; c++) out[d + c] = data[s + c];
      }
    }
    return { width: ow, height: oh, channels, data: out };
  }

  // Pillow skips a pass whose size does not change; the taps would be the identity anyway.
  let rowsFirst = top;
  let rowsCount = oh;
  let vt: Taps | undefined;
  if (outHeight !== height) {
    vt = resizeTaps(height, outHeight, filter, top, oh);
    rowsFirst = vt.start[0];
    rowsCount = vt.start[oh - 1] + vt.count[oh - 1] - rowsFirst;
  }

  // Horizontal pass over just the rows the vertical pass reads.
  let temp: Uint8Array;
  if (outWidth !== width) {
    const ht = resizeTaps(width, outWidth, filter, left, ow);
    temp = new Uint8Array(rowsCount * ow * channels);
    horizontalPass(data, width, channels, rowsFirst, rowsCount, ht, fixedPoint(ht), temp);
  } else {
    temp = new Uint8Array(rowsCount * ow * channels);
    for (let y = 0; y < rowsCount; y++) {
      const s = ((rowsFirst + y) * width + left) * channels;
      temp.set(data.subarray(s, s + ow * channels), y * ow * channels);
    }
  }

  if (!vt) {
    return { width: ow, height: oh, channels, data: temp };
  }
  verticalPass(temp, ow * channels, rowsFirst, vt, fixedPoint(vt), out);
  return { width: ow, height: oh, channels, data: out };
}

/** Row by row: each output row accumulates whole input rows (sequential memory, int32 sums). */
function verticalPass(
  temp: Uint8Array,
  stride: number,
  rowsFirst: number,
  vt: Taps,
  vk: Int32Array,
  out: Uint8Array,
): void {
  const acc = new Int32Array(stride);
  const oh = vt.start.length;
  for (let y = 0; y < oh; y++) {
    acc.fill(HALF);
    const k0 = y * vt.ksize;
    const r0 = (vt.start[y] - rowsFirst) * stride;
    const n = vt.count[y];
    for (let k = 0; k < n; k++) {
      const w = vk[k0 + k];
      const r = r0 + k * stride;
      for (let i = 0; i < stride; i++) acc[i] = (acc[i] + Math.imul(temp[r + i], w)) | 0;
    }
    const o = y * stride;
    for (let i = 0; i < stride; i++) out[o + i] = clip8(acc[i]);
  }
}

/** The hot loop of 8-bit resizing; all channels of a pixel are summed together. */
function horizontalPass(
  data: Uint8Array,
  width: number,
  channels: number,
  rowsFirst: number,
  rowsCount: number,
  ht: Taps,
  hk: Int32Array,
  out: Uint8Array,
): void {
  const ow = ht.start.length;
  const { ksize, start, count } = ht;
  const sums = new Int32Array(channels);
  for (let y = 0; y < rowsCount; y++) {
    const srcRow = (rowsFirst + y) * width * channels;
    let o = y * ow * channels;
    for (let x = 0; x < ow; x++) {
      const k0 = x * ksize;
      const n = count[x];
      let p = srcRow + start[x] * channels;
      if (channels === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let k = 0; k < n; k++, p += 3) {
          const w = hk[k0 + k];
          s0 = (s0 + Math.imul(data[p], w)) | 0;
          s1 = (s1 + Math.imul(data[p + 1], w)) | 0;
          s2 = (s2 + Math.imul(data[p + 2], w)) | 0;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      } else if (channels === 1) {
        let s0 = HALF;
        for (let k = 0; k < n; k++) s0 = (s0 + Math.imul(data[p + k], hk[k0 + k])) | 0;
        out[o++] = clip8(s0);
      } else {
        sums.fill(HALF);
        for (let k = 0; k < n; k++, p += channels) {
          const w = hk[k0 + k];
          for (let c = 0; c < channels; c++) sums[c] = (sums[c] + Math.imul(data[p + c], w)) | 0;
        }
        for (let c = 0; c < channels; c++) out[o++] = clip8(sums[c]);
      }
    }
  }
}

/**
 * Resamples a single-channel float map (row-major `width` x `height`) with separable taps,
 * horizontal pass first and a float32 intermediate, as Pillow does for mode 'F' images.
 */
export function resampleFloat(
  src: Float32Array,
  width: number,
  height: number,
  xTaps: Taps,
  yTaps: Taps,
): Float32Array {
  const ow = xTaps.start.length;
  const oh = yTaps.start.length;
  const temp = new Float32Array(height * ow);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let sum = 0;
      const k0 = x * xTaps.ksize;
      const s0 = y * width + xTaps.start[x];
      for (let k = 0; k < xTaps.count[x]; k++) sum += src[s0 + k] * xTaps.weights[k0 + k];
      temp[y * ow + x] = sum;
    }
  }
  const out = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const k0 = y * yTaps.ksize;
    const r0 = yTaps.start[y] * ow;
    for (let x = 0; x < ow; x++) {
      let sum = 0;
      for (let k = 0; k < yTaps.count[y]; k++) sum += temp[r0 + k * ow + x] * yTaps.weights[k0 + k];
      out[y * ow + x] = sum;
    }
  }
  return out;
}
