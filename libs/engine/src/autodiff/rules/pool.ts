import { attrInt, attrInts, type NodeProto } from '@camflow/onnx';
import { axis } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';
import { isZero } from '../helpers.js';
import { spatial, windowGeometry } from './conv-geometry.js';

function xy(node: NodeProto) {
  return { x: (node.input ?? [])[0], y: (node.output ?? [])[0] };
}

/** Spreads dY (at Y's shape, size-1 on the reduced axes) over X's shape. */
function expandTo(ctx: RuleContext, g: string, x: string): string {
  return ctx.b.node('Expand', [g, ctx.b.node('Shape', [x])]);
}

const globalAveragePool: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const { x } = xy(node);
  const area = spatial(ctx.shape(x), 'GlobalAveragePool').reduce((a, b) => a * b, 1);
  return [expandTo(ctx, ctx.b.node('Mul', [dy, ctx.b.floats([1 / area], [])]), x)];
};

/** Max-type reductions: the gradient goes to every element equal to the max (ties share it). */
function toMaxima(ctx: RuleContext, x: string, yKeep: string, dyKeep: string, min = false): string {
  const b = ctx.b;
  // x <= max everywhere, so x == max is !(x < max): Equal takes floats only from opset 11.
  const hit =
    ctx.opset >= 11
      ? b.node('Equal', [x, yKeep])
      : b.node('Not', [b.node(min ? 'Greater' : 'Less', [x, yKeep])]);
  return b.node('Where', [hit, expandTo(ctx, dyKeep, x), b.floats([0], [])]);
}

const globalMaxPool: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const { x, y } = xy(node);
  return [toMaxima(ctx, x, y, dy)];
};

/** Reduced axes and keepdims of a Reduce* node (axes moved to an input in opset 13/18). */
function reduceAxes(node: NodeProto, ctx: RuleContext, axesAsInputFrom: number): number[] {
  const x = (node.input ?? [])[0];
  const rank = ctx.shape(x).length;
  let axes: number[] | undefined;
  if (ctx.opset >= axesAsInputFrom) {
    const name = (node.input ?? [])[1];
    if (name) {
      axes = ctx.constant(name);
      if (!axes) throw new RuleLimitError('non-constant reduction axes');
    }
  } else {
    axes = attrInts(node, 'axes');
  }
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    axes = Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => axis(a, rank)).sort((p, q) => p - q);
}

/** dY brought back to keepdims form. */
function keepDims(node: NodeProto, ctx: RuleContext, g: string, axes: number[]): string {
  return attrInt(node, 'keepdims', 1) === 1 || axes.length === 0 ? g : ctx.b.unsqueeze(g, axes);
}

type ReduceKind =
  | 'sum'
  | 'mean'
  | 'max'
  | 'min'
  | 'l1'
  | 'l2'
  | 'sumsquare'
  | 'logsum'
  | 'logsumexp';

function reduceRule(kind: ReduceKind, axesAsInputFrom: number): GradRule {
  return (node, ctx, [dy], needs) => {
    const out = needs.map(() => undefined as string | undefined);
    if (!needs[0] || !dy) return out;
    const { x, y } = xy(node);
    const axes = reduceAxes(node, ctx, axesAsInputFrom);
    if (axes.length === 0) {
      out[0] = dy;
      return out;
    }
    const b = ctx.b;
    const g = keepDims(node, ctx, dy, axes);
    const yKeep = () => keepDims(node, ctx, y, axes);
    if (kind === 'max' || kind === 'min') {
      out[0] = toMaxima(ctx, x, yKeep(), g, kind === 'min');
      return out;
    }
    const spread = expandTo(ctx, g, x);
    switch (kind) {
      case 'sum':
        out[0] = spread;
        break;
      case 'mean': {
        const shape = ctx.shape(x);
        const count = axes.reduce((acc, a) => acc * shape[a], 1);
        if (count <= 0) throw new RuleLimitError('ReduceMean over the batch axis');
        out[0] = expandTo(ctx, b.node('Mul', [g, b.floats([1 / count], [])]), x);
        break;
      }
      case 'l1':
        out[0] = b.node('Mul', [spread, b.node('Sign', [x])]);
        break;
      case 'sumsquare':
        out[0] = b.node('Mul', [spread, b.node('Mul', [x, b.floats([2], [])])]);
        break;
      case 'l2': {
        // d ||x|| = x / ||x||; 0 where the norm is 0 (the subgradient PyTorch uses).
        const norm = yKeep();
        const ratio = b.node('Div', [x, norm]);
        out[0] = b.node('Where', [
          isZero(ctx, norm),
          b.floats([0], []),
          b.node('Mul', [spread, ratio]),
        ]);
        break;
      }
      case 'logsum':
        // y = log(sum x): dx = dy / sum x = dy / e^y
        out[0] = b.node('Div', [spread, b.node('Exp', [yKeep()])]);
        break;
      case 'logsumexp':
        // y = log(sum e^x): dx = dy e^(x - y), a softmax over the reduced axes
        out[0] = b.node('Mul', [spread, b.node('Exp', [b.node('Sub', [x, yKeep()])])]);
        break;
    }
    return out;
  };
}

/**
 * MaxPool: recompute it with its Indices output (flat positions in X) and scatter dY there.
 * Overlapping windows can pick one element twice, so the scatter must add (opset 16); older
 * opsets place dY by the max's offset in its window instead (byOffsets).
 */
const maxPool: GradRule = (node, ctx, dOut, needs) => {
  const dy = dOut[0];
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const { x } = xy(node);
  const kernel = attrInts(node, 'kernel_shape') ?? [];
  const strides = attrInts(node, 'strides') ?? kernel.map(() => 1);
  const dil = attrInts(node, 'dilations') ?? kernel.map(() => 1);
  const overlapping = kernel.some((k, i) => (k - 1) * dil[i] + 1 > strides[i]);
  const attrs: Record<string, number | number[] | string> = { kernel_shape: kernel, strides };
  const pads = attrInts(node, 'pads');
  if (pads) attrs.pads = pads;
  if (attrInts(node, 'dilations')) attrs.dilations = dil;
  // ceil_mode exists from opset 10: copy it only when the node has it.
  if (node.attribute?.some((a) => a.name === 'ceil_mode')) {
    attrs.ceil_mode = attrInt(node, 'ceil_mode', 0);
  }
  const autoPad = node.attribute?.find((a) => a.name === 'auto_pad');
  if (autoPad?.s) attrs.auto_pad = Buffer.from(autoPad.s).toString('utf8');
  // The model's own Indices are row-major only without storage_order=1; else recompute them.
  const own = attrInt(node, 'storage_order', 0) === 0 ? node.output?.[1] : undefined;
  const indices = own || b.nodeN('MaxPool', [x], 2, attrs)[1];
  if (overlapping && ctx.opset < 16) {
    return [byOffsets(ctx, node, { x, dy, indices, kernel, strides, dil })];
  }
  const flatShape = b.ints([-1]);
  const zeros = b.node('ConstantOfShape', [b.node('Reshape', [b.node('Size', [x]), flatShape])]);
  // ScatterElements is opset 11's name for opset 9's Scatter (same semantics, no reduction).
  const scattered = b.node(
    ctx.opset >= 11 ? 'ScatterElements' : 'Scatter',
    [zeros, b.node('Reshape', [indices, flatShape]), b.node('Reshape', [dy, flatShape])],
    overlapping ? { axis: 0, reduction: 'add' } : { axis: 0 },
  );
  return [b.node('Reshape', [scattered, b.node('Shape', [x])])];
};

/**
 * Overlapping MaxPool windows without ScatterElements' add (opset < 16): each window's dY goes
 * to the offset of its maximum inside the window. Split dY by that offset (k*k one-hot masks),
 * and place every part with a depthwise ConvTranspose whose kernel is one-hot at the offset:
 * for a fixed offset two windows never hit one element, and the transposed convolution adds
 * the offsets' contributions where windows overlap.
 */
function byOffsets(
  ctx: RuleContext,
  node: NodeProto,
  t: { x: string; dy: string; indices: string; kernel: number[]; strides: number[]; dil: number[] },
): string {
  const b = ctx.b;
  const xShape = ctx.shape(t.x);
  const [channels, height, width] = xShape.slice(1);
  const out = spatial(ctx.shape((node.output ?? [])[0]), 'MaxPool');
  if (xShape.length !== 4 || channels < 0)
    throw new RuleLimitError('overlapping MaxPool on a non-2-D map');
  const geo = windowGeometry(node, t.kernel, [height, width], out);
  const [kh, kw] = t.kernel;
  const k2 = kh * kw;
  // The max's row and column in X (Indices are flat over N, C, H, W), minus the window's corner.
  const w64 = b.ints([width], []);
  const row = b.node('Mod', [b.node('Div', [t.indices, w64]), b.ints([height], [])]);
  const col = b.node('Mod', [t.indices, w64]);
  const corner = (size: number, a: 0 | 1) =>
    Array.from({ length: size }, (_, i) => i * t.strides[a] - geo.pads[a]);
  const top = b.ints(corner(out[0], 0), [1, 1, out[0], 1]);
  const left = b.ints(corner(out[1], 1), [1, 1, 1, out[1]]);
  const offR = b.node('Div', [b.node('Sub', [row, top]), b.ints([t.dil[0]], [])]);
  const offC = b.node('Div', [b.node('Sub', [col, left]), b.ints([t.dil[1]], [])]);
  const offset = b.node('Add', [b.node('Mul', [offR, b.ints([kw], [])]), offC]);
  const which = b.ints(
    Array.from({ length: k2 }, (_, i) => i),
    [1, 1, k2, 1, 1],
  );
  const mask = b.node('Cast', [b.node('Equal', [b.unsqueeze(offset, [2]), which])], { to: 1 });
  const parts = b.reshape(b.node('Mul', [b.unsqueeze(t.dy, [2]), mask]), [
    -1,
    channels * k2,
    out[0],
    out[1],
  ]);
  const onehot = new Array<number>(channels * k2 * k2).fill(0);
  for (let c = 0; c < channels; c++) for (let o = 0; o < k2; o++) onehot[(c * k2 + o) * k2 + o] = 1;
  return b.node('ConvTranspose', [parts, b.floats(onehot, [channels * k2, 1, kh, kw])], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group: channels,
    output_padding: geo.outputPadding,
    kernel_shape: t.kernel,
  });
}

/**
 * AveragePool: the transpose of the averaging is a depthwise ConvTranspose with a ones kernel,
 * applied to dY divided by each window's divisor (the valid-element count when pads are
 * excluded from the average).
 */
const averagePool: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const { x, y } = xy(node);
  const xShape = ctx.shape(x);
  const channels = xShape[1];
  if (channels < 0) throw new RuleLimitError('AveragePool with dynamic channels');
  const kernel = attrInts(node, 'kernel_shape') ?? [];
  const geo = windowGeometry(
    node,
    kernel,
    spatial(xShape, 'AveragePool'),
    spatial(ctx.shape(y), 'AveragePool'),
  );
  const area = kernel.reduce((a, k) => a * k, 1);
  const padded = geo.pads.some((p) => p > 0);
  // AveragePool has dilations from opset 19; the divisor and the transpose must use them too.
  const dilations = attrInts(node, 'dilations') ? geo.dilations : undefined;
  let scaled: string;
  if (!padded || attrInt(node, 'count_include_pad', 0) === 1) {
    scaled = b.node('Mul', [dy, b.floats([1 / area], [])]);
  } else {
    // Averaging ones with pads counted as zeros gives valid/area per window.
    const ones = b.node('Expand', [b.floats([1], []), b.node('Shape', [x])]);
    const frac = b.node('AveragePool', [ones], {
      kernel_shape: kernel,
      strides: geo.strides,
      pads: geo.pads,
      dilations,
      count_include_pad: 1,
    });
    scaled = b.node('Div', [dy, b.node('Mul', [frac, b.floats([area], [])])]);
  }
  const weights = b.floats(new Array(channels * area).fill(1), [channels, 1, ...kernel]);
  return [
    b.node('ConvTranspose', [scaled, weights], {
      strides: geo.strides,
      pads: geo.pads,
      dilations,
      group: channels,
      output_padding: geo.outputPadding,
      kernel_shape: kernel,
    }),
  ];
};

export const poolRules: Record<string, GradRule> = {
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  ReduceMean: reduceRule('mean', 18),
  ReduceSum: reduceRule('sum', 13),
  ReduceMax: reduceRule('max', 18),
  ReduceMin: reduceRule('min', 18),
  ReduceL1: reduceRule('l1', 18),
  ReduceL2: reduceRule('l2', 18),
  ReduceSumSquare: reduceRule('sumsquare', 18),
  ReduceLogSum: reduceRule('logsum', 18),
  ReduceLogSumExp: reduceRule('logsumexp', 18),
  MaxPool: maxPool,
  AveragePool: averagePool,
};
