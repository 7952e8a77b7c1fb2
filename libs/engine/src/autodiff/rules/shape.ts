import { attrInt, attrInts, attrString, type NodeProto } from '@camflow/onnx';
import { axis } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';

/** Ops that only rearrange or relabel elements: the gradient is reshaped back. */
const reshapeBack: GradRule = (node, ctx, [dy], needs) => {
  const x = (node.input ?? [])[0];
  return needs.map((n, k) =>
    k === 0 && n && dy ? ctx.b.node('Reshape', [dy, ctx.b.node('Shape', [x])]) : undefined,
  );
};

const passThrough: GradRule = (_node, _ctx, [dy], needs) =>
  needs.map((n, k) => (k === 0 && n ? dy : undefined));

const cast: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const to = attrInt(node, 'to', 1);
  // float <-> float casts only: the gradient is cast back to the input's type.
  if (![1, 10, 11, 16].includes(to)) return [undefined];
  return [ctx.b.node('Cast', [dy], { to: 1 })];
};

const transpose: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const x = (node.input ?? [])[0];
  const rank = ctx.shape(x).length;
  const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [ctx.b.node('Transpose', [dy], { perm: inverse })];
};

/** Sizes of each input along a static axis. */
function staticSizes(ctx: RuleContext, names: string[], ax: number, op: string): number[] {
  return names.map((n) => {
    const d = ctx.shape(n)[ax];
    if (d < 0) throw new RuleLimitError(`${op} along the batch axis`);
    return d;
  });
}

const concat: GradRule = (node, ctx, [dy], needs) => {
  if (!dy) return needs.map(() => undefined);
  const ins = node.input ?? [];
  const ax = axis(attrInt(node, 'axis', 0), ctx.shape(ins[0]).length);
  const sizes = staticSizes(ctx, ins, ax, 'Concat');
  let offset = 0;
  return ins.map((_, k) => {
    const start = offset;
    offset += sizes[k];
    return needs[k] ? ctx.b.slice(dy, [start], [start + sizes[k]], [ax]) : undefined;
  });
};

const split: GradRule = (node, ctx, dOut, needs) => {
  if (!needs[0]) return needs.map(() => undefined);
  const x = (node.input ?? [])[0];
  const ax = axis(attrInt(node, 'axis', 0), ctx.shape(x).length);
  const parts = (node.output ?? []).map((o, k) => dOut[k] ?? ctx.b.zerosLike(o));
  return needs.map((n, k) =>
    k === 0 && n ? ctx.b.node('Concat', parts, { axis: ax }) : undefined,
  );
};

/** Slice parameters, from inputs (opset >= 10) or attributes. */
function sliceParams(node: NodeProto, ctx: RuleContext) {
  const ins = node.input ?? [];
  const rank = ctx.shape(ins[0]).length;
  const read = (k: number, attr: string) => {
    if (ctx.opset < 10) return attrInts(node, attr);
    if (!ins[k]) return undefined;
    const v = ctx.constant(ins[k]);
    if (!v) throw new RuleLimitError(`Slice with a non-constant ${attr}`);
    return v;
  };
  const starts = read(1, 'starts') ?? [];
  const ends = read(2, 'ends') ?? [];
  const axes = (read(3, 'axes') ?? starts.map((_, i) => i)).map((a) => axis(a, rank));
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  return { starts, ends, axes, steps };
}

const slice: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (!needs[0] || !dy) return out;
  const x = (node.input ?? [])[0];
  const shape = ctx.shape(x);
  const { starts, ends, axes, steps } = sliceParams(node, ctx);
  const pads = new Array<number>(shape.length * 2).fill(0);
  axes.forEach((ax, i) => {
    if (steps[i] !== 1) throw new RuleLimitError('Slice with steps other than 1');
    const dim = shape[ax];
    if (dim < 0) throw new RuleLimitError('Slice along the batch axis');
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const s = clamp(starts[i]);
    const e = Math.max(clamp(ends[i]), s);
    pads[ax] = s;
    pads[ax + shape.length] = dim - e;
  });
  out[0] = ctx.b.pad(dy, pads);
  return out;
};

const pad: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (!needs[0] || !dy) return out;
  const ins = node.input ?? [];
  if (attrString(node, 'mode', 'constant') !== 'constant') {
    throw new RuleLimitError('Pad modes other than constant');
  }
  const pads = ctx.opset >= 11 ? ctx.constant(ins[1]) : attrInts(node, 'pads');
  if (!pads) throw new RuleLimitError('Pad with non-constant pads');
  if (ins[3]) throw new RuleLimitError('Pad with an axes input');
  const shape = ctx.shape(ins[0]);
  const rank = shape.length;
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  for (let a = 0; a < rank; a++) {
    const [b, e] = [pads[a], pads[a + rank]];
    if (b < 0 || e < 0) throw new RuleLimitError('Pad with negative pads');
    if (b === 0 && e === 0) continue;
    if (shape[a] < 0) throw new RuleLimitError('Pad along the batch axis');
    starts.push(b);
    ends.push(b + shape[a]);
    axes.push(a);
  }
  out[0] = axes.length > 0 ? ctx.b.slice(dy, starts, ends, axes) : dy;
  return out;
};

export const shapeRules: Record<string, GradRule> = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Identity: passThrough,
  Dropout: passThrough,
  Cast: cast,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
};
