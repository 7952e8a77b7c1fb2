import type { CamView, GraphBuilder } from '@camflow/onnx';

/** The CAM methods. `eigencam` needs no gradient and is computed outside the graph. */
// The method names are part of the contracts (CLI, job payloads, model cards).
export { CAM_METHODS, type CamMethod } from '@camflow/contracts';

import type { CamMethod } from '@camflow/contracts';

/** True for methods that need the backward pass. */
export function needsGradient(method: CamMethod): boolean {
  return method !== 'eigencam';
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
 * Appends a gradient-based CAM to the graph, per image: A and G are [N, C, ...spatial]; the
 * result is [N, ...spatial], after ReLU, not normalised. Weights are never pooled over the
 * batch (the seed's flaw).
 */
export function appendCam(
  b: GraphBuilder,
  method: CamMethod,
  a: string,
  g: string,
  rank: number,
): string {
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const weighted = (w: string) => b.node('Relu', [b.reduceSum(b.node('Mul', [a, w]), [1], false)]);
  switch (method) {
    case 'gradcam':
      // alpha_k = mean_ij dy/dA_k; L = ReLU(sum_k alpha_k A_k)
      return weighted(b.reduceMean(g, spatial, true));
    case 'hirescam':
      return weighted(g);
    case 'layercam':
      return weighted(b.node('Relu', [g]));
    case 'xgradcam': {
      // w_k = sum_ij(g A) / (sum_ij A_k + 1e-7)
      const num = b.reduceSum(b.node('Mul', [g, a]), spatial, true);
      const den = b.node('Add', [b.reduceSum(a, spatial, true), b.floats([1e-7], [])]);
      return weighted(b.node('Div', [num, den]));
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
      const w = b.reduceSum(b.node('Mul', [b.node('Relu', [g]), alpha]), spatial, true);
      return weighted(w);
    }
    case 'eigencam':
      throw new Error('eigencam is computed from the activations, not in the graph');
  }
}
