/**
 * Deletion and insertion curves (Petsiuk et al. 2018, "RISE"): replace the input's pixels with a
 * blurred copy in the CAM's order, hottest first, and watch the class's probability fall
 * (deletion); or start from the blurred copy and put pixels back in that order (insertion). A
 * faithful map makes the score fall fast and rise fast. The same curves over a random order are
 * the reference: a map is only as faithful as it beats chance. Ties of a coarse, upsampled map
 * are broken at random (seeded), not in raster order.
 */
import { rng } from './random.js';
import { at, type ImageTensor } from './tensor.js';

/** Fractions of the pixels removed (deletion) or restored (insertion) at each step. */
export const FAITHFULNESS_STEPS = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75] as const;

/** A box blur applied three times per channel (close to a Gaussian of sigma `radius`). */
export function blurred(
  t: ImageTensor,
  radius = Math.max(1, Math.round(Math.min(t.width, t.height) / 16)),
): Float32Array {
  const out = Float32Array.from(t.data);
  const line = new Float64Array(Math.max(t.width, t.height));
  const pass = (c: number, horizontal: boolean) => {
    const outer = horizontal ? t.height : t.width;
    const inner = horizontal ? t.width : t.height;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        line[i] = out[horizontal ? at(t, c, i, o) : at(t, c, o, i)];
      }
      let acc = 0;
      for (let i = -radius; i <= radius; i++) acc += line[Math.min(inner - 1, Math.max(0, i))];
      for (let i = 0; i < inner; i++) {
        out[horizontal ? at(t, c, i, o) : at(t, c, o, i)] = acc / (2 * radius + 1);
        acc += line[Math.min(inner - 1, i + radius + 1)] - line[Math.max(0, i - radius)];
      }
    }
  };
  for (let c = 0; c < t.channels; c++)
    for (let k = 0; k < 3; k++) {
      pass(c, true);
      pass(c, false);
    }
  return out;
}

/** Pixel indices (y * width + x), hottest first, ties in a seeded random order. */
export function camOrder(heat: Float32Array, seed: number): Uint32Array {
  const r = rng(seed);
  const tie = Float64Array.from(heat, () => r());
  const idx = Uint32Array.from(heat, (_, i) => i);
  return idx.sort((a, b) => heat[b] - heat[a] || tie[a] - tie[b]);
}

/** A seeded random permutation of `n` pixel indices. */
export function randomOrder(n: number, seed: number): Uint32Array {
  const r = rng(seed ^ 0x9e3779b9);
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** The inputs of the curves: index 0 the blurred image, then per order and step. */
export interface FaithfulnessInputs {
  count: number;
  /** The i-th input (built on demand: each is a full copy of the tensor). */
  input(i: number): Float32Array;
}

/** deletion(CAM), insertion(CAM), deletion(random), insertion(random): 4 x steps + 1 inputs. */
export function faithfulnessInputs(
  t: ImageTensor,
  heat: Float32Array,
  seed: number,
): FaithfulnessInputs {
  const base = blurred(t);
  const pixels = t.width * t.height;
  if (heat.length !== pixels)
    throw new RangeError(`heat has ${heat.length} values, the input ${pixels} pixels`);
  const orders = [camOrder(heat, seed), randomOrder(pixels, seed)];
  const steps = FAITHFULNESS_STEPS.length;
  return {
    count: 1 + 4 * steps,
    input(i) {
      if (i === 0) return base;
      const k = i - 1;
      const order = orders[Math.floor(k / (2 * steps))];
      const insertion = Math.floor(k / steps) % 2 === 1;
      const fraction = FAITHFULNESS_STEPS[k % steps];
      const out = Float32Array.from(insertion ? base : t.data);
      const from = insertion ? t.data : base;
      const m = Math.round(fraction * pixels);
      for (let j = 0; j < m; j++) {
        const p = order[j];
        const x = p % t.width;
        const y = (p - x) / t.width;
        for (let c = 0; c < t.channels; c++) {
          const q = at(t, c, x, y);
          out[q] = from[q];
        }
      }
      return out;
    },
  };
}

/** One image's curves (the class's probability at 0, each step, 1). */
export interface FaithfulnessCurves {
  deletion: number[];
  insertion: number[];
  randomDeletion: number[];
  randomInsertion: number[];
}

/** Curves from the probabilities of the inputs (in `faithfulnessInputs` order) and the original's. */
export function curves(original: number, probs: readonly number[]): FaithfulnessCurves {
  const s = FAITHFULNESS_STEPS.length;
  const blur = probs[0];
  const part = (k: number) => probs.slice(1 + k * s, 1 + (k + 1) * s);
  return {
    deletion: [original, ...part(0), blur],
    insertion: [blur, ...part(1), original],
    randomDeletion: [original, ...part(2), blur],
    randomInsertion: [blur, ...part(3), original],
  };
}

/** Area under a curve sampled at 0, the steps, 1 (trapezoids). */
export function auc(curve: readonly number[]): number {
  const xs = [0, ...FAITHFULNESS_STEPS, 1];
  let a = 0;
  for (let i = 1; i < xs.length; i++) a += ((curve[i] + curve[i - 1]) / 2) * (xs[i] - xs[i - 1]);
  return a;
}
