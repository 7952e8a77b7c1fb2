import { attrFloat, attrInt } from '@camflow/onnx';
import { axis } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';
import { shapeFrom } from '../helpers.js';

/**
 * Backward of a normalisation over `axes` (affine part excluded): with xhat = (x - mean) /
 * sqrt(var + eps) and g = dL/dxhat, dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps).
 * The statistics are recomputed from x (exports do not expose them).
 */
export function normalizeBackward(
  ctx: RuleContext,
  x: string,
  g: string,
  axes: number[],
  eps: number,
): string {
  const b = ctx.b;
  const mean = (t: string) => b.reduceMean(t, axes, true);
  const xc = b.node('Sub', [x, mean(x)]);
  const variance = mean(b.node('Mul', [xc, xc]));
  const rstd = b.node('Reciprocal', [
    b.node('Sqrt', [b.node('Add', [variance, b.floats([eps], [])])]),
  ]);
  const xhat = b.node('Mul', [xc, rstd]);
  const inner = b.node('Sub', [
    b.node('Sub', [g, mean(g)]),
    b.node('Mul', [xhat, mean(b.node('Mul', [g, xhat]))]),
  ]);
  return b.node('Mul', [inner, rstd]);
}

function refuseAffine(needs: boolean[], what: string): void {
  if (needs.slice(1).some(Boolean))
    throw new RuleLimitError(`${what} that depend on the hooked layer`);
}

/** LayerNormalization (opset 17): normalised over the axes from `axis` to the last. */
const layerNorm: GradRule = (node, ctx, dOut, needs) => {
  const out = needs.map(() => undefined as string | undefined);
  const dy = dOut[0];
  refuseAffine(needs, 'LayerNormalization scale or bias');
  // Mean and InvStdDev are training outputs; exports do not consume them.
  if (dOut[1] || dOut[2]) throw new RuleLimitError('a consumed Mean or InvStdDev output');
  if (!needs[0] || !dy) return out;
  const [x, scale] = node.input ?? [];
  const rank = ctx.shape(x).length;
  const a = axis(attrInt(node, 'axis', -1), rank);
  const axes = Array.from({ length: rank - a }, (_, i) => a + i);
  const g = ctx.b.node('Mul', [dy, scale]);
  out[0] = normalizeBackward(ctx, x, g, axes, attrFloat(node, 'epsilon', 1e-5));
  return out;
};

/** InstanceNormalization: per image and channel over the spatial axes, scale per channel. */
const instanceNorm: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  refuseAffine(needs, 'InstanceNormalization scale or bias');
  if (!needs[0] || !dy) return out;
  const [x, scale] = node.input ?? [];
  const rank = ctx.shape(x).length;
  const perChannel = ctx.b.reshape(scale, [-1, ...new Array(rank - 2).fill(1)]);
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const g = ctx.b.node('Mul', [dy, perChannel]);
  out[0] = normalizeBackward(ctx, x, g, axes, attrFloat(node, 'epsilon', 1e-5));
  return out;
};

/**
 * GroupNormalization: channels split into `num_groups` groups, each normalised over its channels
 * and space. Opset 18 scales per group ([G]); opset 21 per channel ([C]).
 */
const groupNorm: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  refuseAffine(needs, 'GroupNormalization scale or bias');
  if (!needs[0] || !dy) return out;
  const b = ctx.b;
  const [x, scale] = node.input ?? [];
  const rank = ctx.shape(x).length;
  const groups = attrInt(node, 'num_groups', 1);
  const grouped = (t: string) => b.reshape(t, [0, groups, -1]);
  let g: string;
  if (ctx.opset >= 21) {
    g = grouped(b.node('Mul', [dy, b.reshape(scale, [-1, ...new Array(rank - 2).fill(1)])]));
  } else {
    g = b.node('Mul', [grouped(dy), b.reshape(scale, [1, groups, 1])]);
  }
  const dx = normalizeBackward(ctx, grouped(x), g, [2], attrFloat(node, 'epsilon', 1e-5));
  out[0] = b.node('Reshape', [dx, shapeFrom(ctx, x, [{ from: 0, to: rank }])]);
  return out;
};

export const normalizationRules: Record<string, GradRule> = {
  LayerNormalization: layerNorm,
  InstanceNormalization: instanceNorm,
  GroupNormalization: groupNorm,
};
