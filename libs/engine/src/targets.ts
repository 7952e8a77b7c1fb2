import { CompileError, InputShapeError } from './errors.js';

/** Several classes per image: every class, a list of classes, or the k highest-scoring. */
export type Targets = 'all' | number[] | { top: number };

/**
 * The target row fed to a many-target graph, the same for every image: class indices, and -r
 * for the r-th highest score.
 */
export function targetRow(targets: Targets, numClasses: number): number[] {
  if (targets === 'all') return Array.from({ length: numClasses }, (_, i) => i);
  if (Array.isArray(targets)) {
    if (targets.length === 0) throw new InputShapeError('targets: an empty list');
    for (const t of targets) {
      if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
        throw new InputShapeError(`target ${t} is not a class index in [0, ${numClasses - 1}]`);
      }
    }
    return [...targets];
  }
  const k = targets.top;
  if (!Number.isInteger(k) || k < 1 || k > numClasses) {
    throw new InputShapeError(`top ${k}: the model has ${numClasses} classes`);
  }
  return Array.from({ length: k }, (_, i) => -(i + 1));
}

/** Class of each target of each image: ranks resolved against the image's scores. */
export function resolveRow(
  row: number[],
  scores: Float32Array,
  image: number,
  k: number,
): number[] {
  const s = scores.subarray(image * k, (image + 1) * k);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b);
  return row.map((t) => (t >= 0 ? t : order[-t - 1]));
}

/**
 * The copied head must compute the model's own scores (each repeated K times); an export that
 * bakes the batch size into a reshape behind the layer would not, and its maps would be wrong.
 */
export function checkReplica(
  replica: Float32Array,
  model: Float32Array,
  images: number,
  copies: number,
): void {
  const per = model.length / images;
  let worst = replica.length === model.length * copies ? 0 : Number.POSITIVE_INFINITY;
  let scale = 1e-6;
  for (let i = 0; i < images && Number.isFinite(worst); i++) {
    for (let c = 0; c < copies; c++) {
      for (let j = 0; j < per; j++) {
        const b = model[i * per + j];
        worst = Math.max(worst, Math.abs(replica[(i * copies + c) * per + j] - b));
        scale = Math.max(scale, Math.abs(b));
      }
    }
  }
  if (!(worst <= 1e-4 * scale)) {
    throw new CompileError('the head copied for several targets does not reproduce the scores');
  }
}
