import type { CamView, GraphBuilder } from '@camflow/onnx';

// The contract's method names (CLI, job payloads, model cards) are a subset of the engine's.
export { CAM_METHODS, type CamMethod } from '@camflow/contracts';

import { CAM_METHODS } from '@camflow/contracts';

/**
 * Every method the engine implements: the contract's six, and the rest of the CAM family
 * (explain/bench only until runs and cards carry them).
 */
export const ENGINE_METHODS = [
  ...CAM_METHODS,
  'eigengradcam',
  'gradcamelementwise',
  'scorecam',
  'ablationcam',
  'guided-gradcam',
] as const;
export type EngineMethod = (typeof ENGINE_METHODS)[number];

/** Methods computed from the activations alone (no backward pass). */
export function needsGradient(method: EngineMethod): boolean {
  return !['eigencam', 'scorecam', 'ablationcam'].includes(method);
}

/** Methods whose map does not depend on the target. */
export function targetFree(method: EngineMethod): boolean {
  return method === 'eigencam';
}

/**
 * Methods (or options) whose map is the first principal component of a [C, h*w] tensor
 * ("weighted activations"), projected outside the graph.
 */
export function projected(method: EngineMethod, eigenSmooth: boolean): boolean {
  return (
    method === 'eigencam' || method === 'eigengradcam' || (eigenSmooth && needsGradient(method))
  );
}

/**
 * The layer's tensor as [N, C, h, w] (see CamView): the grid tokens kept, every axis split into
 * its parts, the parts moved to (batch, channels, rows, columns) and merged. Activations and
 * gradients go through the same steps.
 */
export function canonical(b: GraphBuilder, t: string, view: CamView): string {
  let x = t;
  if (view.crop) x = b.slice(x, [view.crop.start], [view.crop.end], [view.crop.axis]);
  if (view.split) x = b.reshape(x, view.split);
  if (view.perm) x = b.node('Transpose', [x], { perm: view.perm });
  if (view.merge) x = b.reshape(x, [-1, view.channels, view.height, view.width]);
  return x;
}

/**
 * The inverse of `canonical`: a [N, C, h, w] tensor back in the layer's own layout, where `raw`
 * is a tensor of that layout (its extra tokens, which the map leaves out, are taken from it).
 */
export function uncanonical(b: GraphBuilder, t: string, view: CamView, raw: string): string {
  let x = t;
  const split = view.split;
  if (view.merge) {
    const dims = split ?? [];
    const permuted = view.perm ? view.perm.map((p) => dims[p]) : dims;
    x = b.reshape(x, permuted);
  }
  if (view.perm) {
    const inverse = new Array<number>(view.perm.length);
    view.perm.forEach((p, i) => {
      inverse[p] = i;
    });
    x = b.node('Transpose', [x], { perm: inverse });
  }
  if (split || view.crop) {
    // Back to the raw rank: the raw shape, with the crop axis at the grid's length.
    let shape = b.node('Shape', [raw]);
    if (view.crop) {
      const before = b.slice(shape, [0], [view.crop.axis], [0]);
      const after = b.slice(shape, [view.crop.axis + 1], [2 ** 40], [0]);
      shape = b.node('Concat', [before, b.ints([view.crop.end - view.crop.start]), after], {
        axis: 0,
      });
    }
    x = b.node('Reshape', [x, shape]);
  }
  if (view.crop) {
    const { axis, start, end } = view.crop;
    const head = b.slice(raw, [0], [start], [axis]);
    const tail = b.slice(raw, [end], [2 ** 40], [axis]);
    x = b.node('Concat', [head, x, tail], { axis });
  }
  return x;
}

/**
 * The per-channel weighted activations of a gradient method, [N, C, h, w] (per image: weights
 * are never pooled over the batch, the seed's flaw). The map sums them over channels (then ReLU);
 * eigen-smooth projects them on their first principal component instead (pytorch-grad-cam).
 */
export function weightedActivations(
  b: GraphBuilder,
  method: EngineMethod,
  a: string,
  g: string,
): string {
  const spatial = [2, 3];
  const mul = (w: string) => b.node('Mul', [a, w]);
  switch (method) {
    case 'gradcam':
    case 'guided-gradcam':
      // alpha_k = mean_ij dy/dA_k
      return mul(b.reduceMean(g, spatial, true));
    case 'hirescam':
    case 'eigengradcam':
      return mul(g);
    case 'layercam':
      return mul(b.node('Relu', [g]));
    case 'gradcamelementwise':
      return b.node('Relu', [mul(g)]);
    case 'xgradcam': {
      // w_k = sum_ij(g A) / (sum_ij A_k + 1e-7)
      const num = b.reduceSum(b.node('Mul', [g, a]), spatial, true);
      const den = b.node('Add', [b.reduceSum(a, spatial, true), b.floats([1e-7], [])]);
      return mul(b.node('Div', [num, den]));
    }
    case 'gradcam++': {
      // a = g^2 / (2 g^2 + sum_ij(A) g^3 + 1e-6), 0 where g = 0; w_k = sum_ij ReLU(g) a
      const g2 = b.node('Mul', [g, g]);
      const g3 = b.node('Mul', [g2, g]);
      const sumA = b.reduceSum(a, spatial, true);
      const den = b.node('Add', [
        b.node('Add', [b.node('Mul', [g2, b.floats([2], [])]), b.node('Mul', [sumA, g3])]),
        b.floats([1e-6], []),
      ]);
      const zero = b.floats([0], []);
      const alpha = b.node('Where', [b.node('Equal', [g, zero]), zero, b.node('Div', [g2, den])]);
      return mul(b.reduceSum(b.node('Mul', [b.node('Relu', [g]), alpha]), spatial, true));
    }
    default:
      throw new Error(`${method} is not computed from gradients in the graph`);
  }
}

/** The map of a gradient method: ReLU(sum over channels of the weighted activations), [N, h, w]. */
export function appendCam(b: GraphBuilder, method: EngineMethod, a: string, g: string): string {
  return b.node('Relu', [b.reduceSum(weightedActivations(b, method, a, g), [1], false)]);
}
