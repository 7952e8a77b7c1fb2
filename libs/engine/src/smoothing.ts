import type { Batch, ExplainOptions, ExplainResult, TensorView } from './engine.js';
import { CompileError } from './errors.js';

type Explain = (batch: Batch, opts: ExplainOptions) => Promise<ExplainResult>;

/** Each image's map scaled to [0, 1] (pytorch-grad-cam's scale_cam_image, without the resize). */
export function minMaxPerImage(maps: TensorView): Float32Array {
  const [n, ...rest] = maps.dims;
  const area = rest.reduce((a, d) => a * d, 1);
  const out = new Float32Array(maps.data.length);
  for (let i = 0; i < n; i++) {
    const m = maps.data.subarray(i * area, (i + 1) * area);
    let lo = Number.POSITIVE_INFINITY;
    for (const v of m) lo = Math.min(lo, v);
    let hi = 0;
    for (const v of m) hi = Math.max(hi, v - lo);
    for (let j = 0; j < area; j++) out[i * area + j] = (m[j] - lo) / (1e-7 + hi);
  }
  return out;
}

/**
 * Bilinear resize of [N, h, w] maps to [N, H, W] with half-pixel centres (cv2.resize's
 * INTER_LINEAR, torch's align_corners=False), edges clamped.
 */
export function resizeMaps(
  data: Float32Array,
  n: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Float32Array {
  const out = new Float32Array(n * oh * ow);
  const axis = (o: number, size: number, outSize: number) => {
    const src = Math.min(Math.max(((o + 0.5) * size) / outSize - 0.5, 0), size - 1);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, size - 1);
    return { i0, i1, t: src - i0 };
  };
  for (let y = 0; y < oh; y++) {
    const ay = axis(y, h, oh);
    for (let x = 0; x < ow; x++) {
      const ax = axis(x, w, ow);
      for (let i = 0; i < n; i++) {
        const m = (r: number, c: number) => data[(i * h + r) * w + c];
        const top = m(ay.i0, ax.i0) * (1 - ax.t) + m(ay.i0, ax.i1) * ax.t;
        const bottom = m(ay.i1, ax.i0) * (1 - ax.t) + m(ay.i1, ax.i1) * ax.t;
        out[(i * oh + y) * ow + x] = top * (1 - ay.t) + bottom * ay.t;
      }
    }
  }
  return out;
}

/**
 * Multi-layer fusion (pytorch-grad-cam's list of target layers): each layer's map scaled to
 * [0, 1], resized to the finest layer's resolution, averaged, scaled to [0, 1] again.
 */
export async function fuseLayers(
  explain: Explain,
  batch: Batch,
  opts: ExplainOptions,
  layers: string[],
): Promise<ExplainResult> {
  if (layers.length === 0) throw new CompileError('an empty list of layers');
  const results: ExplainResult[] = [];
  for (const layer of layers) results.push(await explain(batch, { ...opts, layer }));
  const finest = results.reduce((best, r) =>
    r.cams.dims[1] * r.cams.dims[2] > best.cams.dims[1] * best.cams.dims[2] ? r : best,
  );
  const [n, oh, ow] = finest.cams.dims;
  const sum = new Float32Array(n * oh * ow);
  for (const r of results) {
    const [, h, w] = r.cams.dims;
    const scaled = resizeMaps(minMaxPerImage(r.cams), n, h, w, oh, ow);
    scaled.forEach((v, j) => {
      sum[j] += Math.max(v, 0) / results.length;
    });
  }
  const cams = { data: minMaxPerImage({ data: sum, dims: [n, oh, ow] }), dims: [n, oh, ow] };
  const { grid: _grid, perTarget: _many, ...first } = results[0];
  return { ...first, layer: results.map((r) => r.layer).join(','), layout: finest.layout, cams };
}

/**
 * Test-time augmentation (pytorch-grad-cam's aug_smooth): the image flipped or not, times 0.9,
 * 1 and 1.1; each map un-flipped, scaled to [0, 1], averaged. The targets are the un-augmented
 * image's (pytorch-grad-cam re-predicts each copy). `widthAxis` is the input's column axis.
 */
export async function augmentationSmoothing(
  explain: Explain,
  batch: Batch,
  opts: ExplainOptions,
  widthAxis: number,
): Promise<ExplainResult> {
  const plain = await explain(batch, { ...opts, augSmooth: false });
  const target =
    opts.target !== undefined && typeof opts.target !== 'string' ? opts.target : plain.targets;
  const [n, h, w] = plain.cams.dims;
  const sum = new Float32Array(n * h * w);
  let count = 0;
  for (const flip of [false, true]) {
    for (const factor of [0.9, 1, 1.1]) {
      const r =
        !flip && factor === 1
          ? plain
          : await explain(augment(batch, flip, factor, widthAxis), {
              ...opts,
              augSmooth: false,
              target,
            });
      const scaled = minMaxPerImage(r.cams);
      for (let i = 0; i < n; i++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            sum[(i * h + y) * w + x] += scaled[(i * h + y) * w + (flip ? w - 1 - x : x)];
          }
        }
      }
      count++;
    }
  }
  const cams = { data: sum.map((v) => v / count), dims: [n, h, w] };
  const { perTarget: _many, ...rest } = plain;
  return { ...rest, cams };
}

/** The batch flipped along one axis and scaled. */
function augment(batch: Batch, flip: boolean, factor: number, axis: number): Batch {
  const dims = batch.dims;
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const data = new Float32Array(batch.data.length);
  for (let i = 0; i < data.length; i++) {
    let src = i;
    if (flip) {
      const pos = Math.floor(i / inner) % size;
      src = i + (size - 1 - 2 * pos) * inner;
    }
    data[i] = batch.data[src] * factor;
  }
  return { data, dims };
}
