import { attrFloat, attrInt, attrInts, attrString } from '@camflow/onnx';
import { unbroadcast } from '../broadcast.js';
import { type GradRule, RuleLimitError } from '../context.js';
import { spatial, windowGeometry } from './conv-geometry.js';
import { einsum } from './einsum.js';

/** Conv w.r.t. its input: a ConvTranspose with the same weights, strides, pads and groups. */
const conv: GradRule = (node, ctx, [dy], needs) => {
  const ins = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (needs[1] || needs[2]) throw new RuleLimitError('weights that depend on the hooked layer');
  if (!needs[0] || !dy) return out;
  const w = ctx.shape(ins[1]);
  const geo = windowGeometry(
    node,
    w.slice(2),
    spatial(ctx.shape(ins[0]), 'Conv'),
    spatial(ctx.shape((node.output ?? [])[0]), 'Conv'),
  );
  out[0] = ctx.b.node('ConvTranspose', [dy, ins[1]], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group: attrInt(node, 'group', 1),
    output_padding: geo.outputPadding,
    kernel_shape: geo.kernel,
  });
  return out;
};

/** Gemm: Y = alpha A' B' + beta C, with A' = A^T when transA (likewise B). */
const gemm: GradRule = (node, ctx, [dy], needs) => {
  const [a, b, c] = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (!dy) return out;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const tA = attrInt(node, 'transA', 0);
  const tB = attrInt(node, 'transB', 0);
  const g = ctx.b;
  // Gemm's C is optional only from opset 11: give older opsets a zero.
  const zero = ctx.opset < 11 ? [g.floats([0], [])] : [];
  if (needs[0]) {
    // dA' = alpha dY B'^T; dA = dA'^T when transA.
    out[0] = tA
      ? g.node('Gemm', [b, dy, ...zero], { alpha: { float: alpha }, transA: tB, transB: 1 })
      : g.node('Gemm', [dy, b, ...zero], { alpha: { float: alpha }, transB: tB ? 0 : 1 });
  }
  if (needs[1]) {
    // dB' = alpha A'^T dY; dB = dB'^T when transB.
    out[1] = tB
      ? g.node('Gemm', [dy, a, ...zero], { alpha: { float: alpha }, transA: 1, transB: tA })
      : g.node('Gemm', [a, dy, ...zero], { alpha: { float: alpha }, transA: tA ? 0 : 1 });
  }
  if (needs[2] && c) {
    const scaled = beta === 1 ? dy : g.node('Mul', [dy, g.floats([beta], [])]);
    out[2] = unbroadcast(ctx, scaled, ctx.shape(c), ctx.shape((node.output ?? [])[0]));
  }
  return out;
};

/** MatMul (numpy semantics, rank >= 2): dA = dY B^T, dB = A^T dY, summed over broadcast batch dims. */
const matmul: GradRule = (node, ctx, [dy], needs) => {
  const [a, b] = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (!dy) return out;
  const ra = ctx.shape(a).length;
  const rb = ctx.shape(b).length;
  if (ra < 2 || rb < 2) throw new RuleLimitError('MatMul with a 1-D operand');
  const y = ctx.shape((node.output ?? [])[0]);
  const swap = (r: number) => [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
  if (needs[0]) {
    const bt = ctx.b.node('Transpose', [b], { perm: swap(rb) });
    out[0] = unbroadcast(ctx, ctx.b.node('MatMul', [dy, bt]), ctx.shape(a), y);
  }
  if (needs[1]) {
    const at = ctx.b.node('Transpose', [a], { perm: swap(ra) });
    out[1] = unbroadcast(ctx, ctx.b.node('MatMul', [at, dy]), ctx.shape(b), y);
  }
  return out;
};

/** BatchNormalization in inference mode: dX = dY * scale / sqrt(var + eps), per channel. */
const batchNorm: GradRule = (node, ctx, [dy], needs) => {
  const [x, scale, , , variance] = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (needs.slice(1).some(Boolean))
    throw new RuleLimitError('statistics that depend on the hooked layer');
  if (attrInt(node, 'training_mode', 0) === 1) throw new RuleLimitError('training mode');
  if (!needs[0] || !dy) return out;
  const g = ctx.b;
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const perChannel = g.node('Div', [
    scale,
    g.node('Sqrt', [g.node('Add', [variance, g.floats([eps], [])])]),
  ]);
  const rank = ctx.shape(x).length;
  const k = g.reshape(perChannel, [-1, ...new Array(rank - 2).fill(1)]);
  out[0] = g.node('Mul', [dy, k]);
  return out;
};

/**
 * ConvTranspose w.r.t. its input: a Conv with the same weights, strides, dilations and groups
 * (the weights' [C_in, C_out/g, k...] layout is what Conv reads as [M, C/g, k...]), with the
 * transposed convolution's padding. Padding implied by output_shape or auto_pad is split as
 * the ONNX spec says (SAME_UPPER: the smaller half first).
 */
const convTranspose: GradRule = (node, ctx, [dy], needs) => {
  const ins = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (needs[1] || needs[2]) throw new RuleLimitError('weights that depend on the hooked layer');
  if (!needs[0] || !dy) return out;
  const w = ctx.shape(ins[1]);
  const kernel = attrInts(node, 'kernel_shape') ?? w.slice(2);
  const n = kernel.length;
  const inSp = spatial(ctx.shape(ins[0]), 'ConvTranspose');
  const outSp = spatial(ctx.shape((node.output ?? [])[0]), 'ConvTranspose');
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const outputPadding = attrInts(node, 'output_padding') ?? new Array(n).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(2 * n).fill(0);
  if (attrInts(node, 'output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const total =
        strides[i] * (inSp[i] - 1) +
        outputPadding[i] +
        (kernel[i] - 1) * dilations[i] +
        1 -
        outSp[i];
      if (total < 0)
        throw new RuleLimitError('an output_shape larger than the full transposed window');
      const half = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[i + n] = total - pads[i];
    }
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * n).fill(0);
  }
  for (let i = 0; i < n; i++) {
    // The Conv must read back exactly the input's size: (out + pads - window) / stride + 1.
    const span = outSp[i] + pads[i] + pads[i + n] - ((kernel[i] - 1) * dilations[i] + 1);
    if (span < 0 || Math.floor(span / strides[i]) + 1 !== inSp[i]) {
      throw new RuleLimitError('ConvTranspose geometry that a Conv cannot invert');
    }
  }
  out[0] = ctx.b.node('Conv', [dy, ins[1]], {
    strides,
    pads,
    dilations,
    group: attrInt(node, 'group', 1),
    kernel_shape: kernel,
  });
  return out;
};

export const linearRules: Record<string, GradRule> = {
  ConvTranspose: convTranspose,
  Conv: conv,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  Einsum: einsum,
};
