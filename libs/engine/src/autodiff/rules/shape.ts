import { attrInt, attrInts, attrString, type NodeProto } from '@camflow/onnx';
import { axis, unbroadcast } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';
import { contractAxis, shapeFrom } from '../helpers.js';

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

/**
 * Slice: dY goes back to the positions it was read from, zeros elsewhere. Step 1 is a Pad;
 * other steps spread dY with zeros between elements (|step| - 1 after each) first, and a
 * negative step reverses dY along the axis before that.
 */
const slice: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (!needs[0] || !dy) return out;
  const x = (node.input ?? [])[0];
  const shape = ctx.shape(x);
  const rank = shape.length;
  const { starts, ends, axes, steps } = sliceParams(node, ctx);
  const pads = new Array<number>(rank * 2).fill(0);
  let g = dy;
  axes.forEach((ax, i) => {
    const dim = shape[ax];
    if (dim < 0) throw new RuleLimitError('Slice along the batch axis');
    const step = steps[i];
    if (step === 0) throw new RuleLimitError('Slice with step 0');
    const picked = slicedPositions(starts[i], ends[i], step, dim);
    if (picked.length === 0) throw new RuleLimitError('an empty Slice');
    const first = Math.min(...picked);
    const last = Math.max(...picked);
    if (Math.abs(step) !== 1 || step < 0) g = spread(ctx, g, ax, rank, picked.length, step);
    pads[ax] = first;
    pads[ax + rank] = dim - 1 - last;
  });
  out[0] = pads.some((p) => p > 0) ? ctx.b.pad(g, pads) : g;
  return out;
};

/** Indices a Slice reads along one axis (ONNX clamping rules for starts and ends). */
function slicedPositions(start: number, end: number, step: number, dim: number): number[] {
  const norm = (v: number) => (v < 0 ? v + dim : v);
  const lo = step > 0 ? 0 : -1;
  const hi = step > 0 ? dim : dim - 1;
  const s = Math.min(Math.max(norm(start), lo), hi);
  const e = Math.min(Math.max(norm(end), lo), hi);
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

/**
 * dY of a strided slice (count elements along `ax`) in ascending order with |step| - 1 zeros
 * between neighbours: the span from the first to the last position read.
 */
function spread(
  ctx: RuleContext,
  g: string,
  ax: number,
  rank: number,
  count: number,
  step: number,
) {
  const b = ctx.b;
  let t = g;
  if (step < 0) t = b.slice(t, [-1], [-(2 ** 62)], [ax], [-1]);
  const k = Math.abs(step);
  if (k === 1) return t;
  // [.., count, ..] -> [.., count, k, ..] (zeros after each element) -> [.., count * k, ..].
  const wide = b.pad(b.unsqueeze(t, [ax + 1]), padAfter(rank + 1, ax + 1, k - 1));
  const merged = b.node('Reshape', [
    wide,
    shapeFrom(ctx, t, [{ from: 0, to: ax }, [count * k], { from: ax + 1, to: rank }]),
  ]);
  return b.slice(merged, [0], [(count - 1) * k + 1], [ax]);
}

function padAfter(rank: number, ax: number, n: number): number[] {
  const pads = new Array<number>(rank * 2).fill(0);
  pads[ax + rank] = n;
  return pads;
}

/** Expand: the inverse of broadcasting, a sum over the expanded axes. */
const expand: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (!needs[0] || !dy) return out;
  const x = (node.input ?? [])[0];
  out[0] = unbroadcast(ctx, dy, ctx.shape(x), ctx.shape((node.output ?? [])[0]));
  return out;
};

/** Tile: dY viewed as [r0, d0, r1, d1, ...] summed over the repeats. */
const tile: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (!needs[0] || !dy) return out;
  const [x, repeatsName] = node.input ?? [];
  const repeats = ctx.constant(repeatsName);
  if (!repeats) throw new RuleLimitError('Tile with repeats computed at run time');
  const rank = repeats.length;
  const parts: ({ from: number; to: number } | number[])[] = [];
  repeats.forEach((r, i) => {
    parts.push([r], { from: i, to: i + 1 });
  });
  if (rank === 0) {
    out[0] = dy;
    return out;
  }
  const viewed = ctx.b.node('Reshape', [dy, shapeFrom(ctx, x, parts)]);
  out[0] = ctx.b.reduceSum(
    viewed,
    repeats.map((_, i) => 2 * i),
    false,
  );
  return out;
};

/**
 * Gather with constant indices (a class token, a channel subset): dX is dY contracted with the
 * one-hot matrix of the indices along the axis, so repeated indices add up.
 */
const gather: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (needs[1]) throw new RuleLimitError('Gather indices that depend on the hooked layer');
  if (!needs[0] || !dy) return out;
  const [x, indicesName] = node.input ?? [];
  const indices = ctx.constant(indicesName);
  if (!indices) throw new RuleLimitError('Gather with indices computed at run time');
  const shape = ctx.shape(x);
  const rank = shape.length;
  const ax = axis(attrInt(node, 'axis', 0), rank);
  const dim = shape[ax];
  if (dim < 0) throw new RuleLimitError('Gather along the batch axis');
  const qRank = ctx.shape(indicesName).length;
  const count = indices.length;
  const onehot = new Array<number>(count * dim).fill(0);
  indices.forEach((v, i) => {
    const j = v < 0 ? v + dim : v;
    if (j < 0 || j >= dim) throw new RuleLimitError(`Gather index ${v} out of range`);
    onehot[i * dim + j] = 1;
  });
  // dY: x[:ax] + indices.shape + x[ax+1:]  ->  x[:ax] + [count] + x[ax+1:].
  const dyRank = rank - 1 + qRank;
  const flat = ctx.b.node('Reshape', [
    dy,
    shapeFrom(ctx, dy, [{ from: 0, to: ax }, [count], { from: ax + qRank, to: dyRank }]),
  ]);
  out[0] = contractAxis(ctx, flat, ax, rank, ctx.b.floats(onehot, [count, dim]));
  return out;
};

/**
 * GatherElements: dY is scattered back with addition (an index may repeat), which needs
 * ScatterElements' reduction (opset 16).
 */
const gatherElements: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (needs[1]) throw new RuleLimitError('GatherElements indices that depend on the hooked layer');
  if (!needs[0] || !dy) return out;
  if (ctx.opset < 16)
    throw new RuleLimitError('GatherElements needs opset >= 16 (ScatterElements add)');
  const [x, indices] = node.input ?? [];
  const b = ctx.b;
  out[0] = b.node('ScatterElements', [b.zerosLike(x), indices, dy], {
    axis: attrInt(node, 'axis', 0),
    reduction: 'add',
  });
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
  Expand: expand,
  Tile: tile,
  Gather: gather,
  GatherElements: gatherElements,
};
