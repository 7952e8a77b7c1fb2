import { attrInt, attrInts, attrString } from '../attributes.js';
import type { NodeProto } from '../proto.js';
import {
  type AxisDim,
  channel,
  isWhole,
  type Layout,
  type Part,
  partSize,
  reshapeParts,
  type SpacePart,
  unknown,
  unknownAxis,
  wholeAxis,
} from './parts.js';

/** What a rule may ask about the tensors around a node. */
export interface NodeFacts {
  /** Dims of a tensor (size at batch 1, batch-dependence), if known. */
  dims(t: string): AxisDim[] | undefined;
  /** Values of a small constant or shape-derived tensor (axes, indices, starts). */
  values(t: string): number[] | undefined;
  /** Whether a tensor holds floats (shapes, indices and masks carry no image layout). */
  float(t: string): boolean;
}

/** Layouts of a node's outputs from its inputs' (undefined: a constant, not from the image). */
type Rule = (
  node: NodeProto,
  ins: (Layout | undefined)[],
  facts: NodeFacts,
) => (Layout | undefined)[];

/** Ops that act on every element alone or normalise along axes: positions keep their meaning. */
const POSITIONAL = [
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'Clip',
  'Identity',
  'Dropout',
  'Cast',
  'Neg',
  'Abs',
  'Sqrt',
  'Exp',
  'Log',
  'Erf',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'LpNormalization',
  'MeanVarianceNormalization',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Where',
  'Expand',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Not',
  'IsNaN',
  'IsInf',
];

/** NCHW ops whose output axes 2.. are their input's spatial axes, resampled. */
const WINDOWED = [
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'ConvInteger',
  'QLinearConv',
];

function outDims(node: NodeProto, facts: NodeFacts, k = 0): AxisDim[] | undefined {
  const o = (node.output ?? [])[k];
  return o ? facts.dims(o) : undefined;
}

/**
 * Broadcasting merge: each output axis takes the parts of the inputs whose dim there is the
 * output's (right-aligned). Where labelled inputs disagree, an input whose parts are known wins
 * over one whose parts were lost: a residual stream defines positions for what is added to it.
 */
function broadcast(
  node: NodeProto,
  ins: (Layout | undefined)[],
  facts: NodeFacts,
): Layout | undefined {
  const out = outDims(node, facts);
  if (!out) return undefined;
  const labelled = ins
    .map((l, k) => ({ l, dims: facts.dims((node.input ?? [])[k] ?? '') }))
    .filter((x): x is { l: Layout; dims: AxisDim[] } => x.l !== undefined && x.dims !== undefined);
  if (labelled.length === 0) return undefined;
  return out.map((d, a) => {
    const candidates: Part[][] = [];
    for (const { l, dims } of labelled) {
      const i = a - (out.length - dims.length);
      if (i < 0) continue;
      if (dims[i].size === d.size && dims[i].batch === d.batch) candidates.push(l[i]);
    }
    if (candidates.length === 0) return d.batch ? [{ kind: 'batch' }] : unitOrUnknown(d.size);
    const known = candidates.filter((c) => !c.some((p) => p.kind === 'unknown'));
    const pool = known.length > 0 ? known : candidates;
    const first = pool[0];
    return pool.every((c) => sameParts(c, first)) ? first : unknownAxis(first, d.size);
  });
}

function unitOrUnknown(size: number): Part[] {
  return size === 1 ? [] : [unknown(size)];
}

export function sameParts(a: Part[], b: Part[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const positional: Rule = (node, ins, facts) => {
  const op = node.opType ?? '';
  // Where's condition and Expand's shape carry no layout; the rest broadcast.
  const data = op === 'Where' ? [undefined, ins[1], ins[2]] : op === 'Expand' ? [ins[0]] : ins;
  const l = broadcast(node, data, facts);
  return (node.output ?? []).map((_, k) => (k === 0 ? l : undefined));
};

const windowed: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  if (!x || !out) return [undefined];
  const spatialIn = x.slice(2);
  const ok =
    spatialIn.length === out.length - 2 && spatialIn.every((p) => p.length === 1 && isWhole(p[0]));
  const l: Layout = out.map((d, a) => {
    if (a === 0) return x[0];
    if (a === 1) return [channel(d.size)];
    return ok
      ? [wholeAxis((spatialIn[a - 2][0] as SpacePart).axis, d.size)]
      : unitOrUnknown(d.size);
  });
  return [l, ...(node.output ?? []).slice(1).map(() => undefined)];
};

/** Global pools and reductions: reduced axes become 1 (kept) or go away. */
const reduction: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  const xDims = facts.dims((node.input ?? [])[0] ?? '');
  if (!x || !out || !xDims) return [undefined];
  const op = node.opType ?? '';
  let axes: number[];
  if (op.startsWith('Global')) axes = xDims.map((_, i) => i).slice(2);
  else {
    const fromInput = (node.input ?? [])[1] ? facts.values((node.input ?? [])[1]) : undefined;
    axes = (fromInput ?? attrInts(node, 'axes') ?? xDims.map((_, i) => i)).map((a) =>
      a < 0 ? a + xDims.length : a,
    );
  }
  const keep = op.startsWith('Global') || attrInt(node, 'keepdims', 1) === 1;
  const l: Layout = [];
  x.forEach((parts, a) => {
    if (!axes.includes(a)) l.push(parts);
    else if (keep) l.push([]);
  });
  return [l.length === out.length ? l : undefined];
};

const transpose: Rule = (node, [x]) => {
  if (!x) return [undefined];
  const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  return [perm.map((p) => x[p])];
};

const reshape: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  if (!x || !out) return [undefined];
  return [reshapeParts(x, out)];
};

/**
 * Concat: along channels, channels; a labelled sequence joined with unlabelled tokens (a class
 * token, register tokens) becomes a token axis with a prefix/suffix; anything else along a
 * spatial axis (a cyclic shift, a mosaic) loses the axis' meaning.
 */
const concat: Rule = (node, ins, facts) => {
  const out = outDims(node, facts);
  const inputs = node.input ?? [];
  if (!out) return [undefined];
  const ax = normAxis(attrInt(node, 'axis', 0), out.length);
  const others = broadcastExcept(node, ins, facts, ax);
  if (!others) return [undefined];
  const along = ins.map((l, k) => ({ l, size: facts.dims(inputs[k])?.[ax]?.size ?? 0 }));
  const labelled = along.filter((a) => a.l !== undefined);
  let axisParts: Part[];
  const partsAt = (l: Layout) => l[ax];
  if (labelled.every((a) => partsAt(a.l as Layout).every((p) => p.kind === 'channel'))) {
    axisParts = [channel(out[ax].size)];
  } else if (labelled.length === 1 && isGrid(partsAt(labelled[0].l as Layout))) {
    const i = along.indexOf(labelled[0]);
    const prefix = along.slice(0, i).reduce((a, b) => a + b.size, 0);
    const suffix = along.slice(i + 1).reduce((a, b) => a + b.size, 0);
    axisParts = [tokens(partsAt(labelled[0].l as Layout), prefix, suffix)];
  } else {
    axisParts = unitOrUnknown(out[ax].size);
  }
  others[ax] = axisParts;
  return [others];
};

/** A grid: whole y then whole x (row-major patches), or a token axis. */
function isGrid(parts: Part[]): boolean {
  if (parts.length === 1 && parts[0].kind === 'tokens') return true;
  return parts.length > 0 && parts.every(isWhole);
}

function tokens(parts: Part[], prefix: number, suffix: number): Part {
  if (parts.length === 1 && parts[0].kind === 'tokens') {
    const t = parts[0];
    return {
      ...t,
      prefix: t.prefix + prefix,
      suffix: t.suffix + suffix,
      size: t.size + prefix + suffix,
    };
  }
  const grid = parts as SpacePart[];
  const size = grid.reduce((a, p) => a * p.size, 1) + prefix + suffix;
  return { kind: 'tokens', size, prefix, suffix, grid };
}

/** Broadcast over all axes but one (which the caller fills in). */
function broadcastExcept(
  node: NodeProto,
  ins: (Layout | undefined)[],
  facts: NodeFacts,
  ax: number,
) {
  const out = outDims(node, facts);
  if (!out) return undefined;
  const inputs = node.input ?? [];
  const l: Layout = out.map(() => []);
  for (let a = 0; a < out.length; a++) {
    if (a === ax) continue;
    const cands = ins
      .map((x, k) => (x && facts.dims(inputs[k])?.[a]?.size === out[a].size ? x[a] : undefined))
      .filter((x): x is Part[] => x !== undefined);
    if (cands.length === 0) l[a] = out[a].batch ? [{ kind: 'batch' }] : unitOrUnknown(out[a].size);
    else
      l[a] = cands.every((c) => sameParts(c, cands[0]))
        ? cands[0]
        : unknownAxis(cands[0], out[a].size);
  }
  return l;
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/**
 * Slice and Split: a shortened channel axis stays channels, a shortened spatial axis stays that
 * axis (a crop, or every other row as in Swin's patch merging), a token axis cut to its grid
 * loses its prefix/suffix. Other cuts lose the axis' meaning.
 */
const cut: Rule = (node, [x], facts) => {
  const xDims = facts.dims((node.input ?? [])[0] ?? '');
  if (!x || !xDims) return (node.output ?? []).map(() => undefined);
  return (node.output ?? []).map((o) => {
    const out = facts.dims(o);
    if (!out || out.length !== x.length) return undefined;
    return x.map((parts, a) => {
      if (out[a].size === xDims[a].size && out[a].batch === xDims[a].batch) return parts;
      return cutAxis(node, parts, a, xDims[a].size, out[a].size, facts);
    });
  });
};

function cutAxis(
  node: NodeProto,
  parts: Part[],
  a: number,
  from: number,
  to: number,
  facts: NodeFacts,
): Part[] {
  if (parts.length !== 1) return unitOrUnknown(to);
  const p = parts[0];
  if (p.kind === 'channel') return [channel(to)];
  if (isWhole(p)) return cutSpace(node, p, a, from, to, facts);
  if (p.kind === 'tokens' && node.opType === 'Slice') {
    const range = sliceRange(node, a, from, facts);
    if (range && range.step === 1 && range.start <= p.prefix && range.end >= from - p.suffix) {
      const dropped = p.prefix - range.start;
      const rest = {
        ...p,
        prefix: p.prefix - dropped,
        suffix: p.suffix - (from - range.end),
        size: to,
      };
      return rest.prefix === 0 && rest.suffix === 0 && rest.grid.every(isWhole)
        ? rest.grid
        : [rest];
    }
  }
  return unitOrUnknown(to);
}

/**
 * A whole spatial axis padded, cropped or subsampled. Padding is remembered so that the crop
 * that removes it (Swin pads to whole windows, then crops back) gives the axis back; every
 * other row (Swin's patch merging) is the axis at half resolution; any other crop (a piece of
 * a cyclic shift) is no longer aligned with the image.
 */
function cutSpace(
  node: NodeProto,
  p: SpacePart,
  a: number,
  from: number,
  to: number,
  facts: NodeFacts,
): Part[] {
  const [before, after] = p.pad ?? [0, 0];
  if (node.opType === 'Pad') {
    const pads = padsOf(node, facts);
    const rank = pads ? pads.length / 2 : 0;
    if (!pads || pads[a] < 0 || pads[a + rank] < 0) return unitOrUnknown(to);
    return [{ ...wholeAxis(p.axis, to), pad: [before + pads[a], after + pads[a + rank]] }];
  }
  const range = node.opType === 'Slice' ? sliceRange(node, a, from, facts) : undefined;
  if (!range) return unitOrUnknown(to);
  if (range.step === 1 && range.start === before && range.end === from - after) {
    return [wholeAxis(p.axis, to)];
  }
  const full = before === 0 && after === 0 && range.start < range.step && range.end >= from;
  return range.step > 1 && full ? [wholeAxis(p.axis, to)] : unitOrUnknown(to);
}

function padsOf(node: NodeProto, facts: NodeFacts): number[] | undefined {
  const ins = node.input ?? [];
  return ins[1] ? facts.values(ins[1]) : attrInts(node, 'pads');
}

function sliceRange(node: NodeProto, a: number, dim: number, facts: NodeFacts) {
  const ins = node.input ?? [];
  const rank = (facts.dims(ins[0]) ?? []).length;
  const read = (k: number, attr: string) => (ins[k] ? facts.values(ins[k]) : attrInts(node, attr));
  const starts = read(1, 'starts');
  const ends = read(2, 'ends');
  if (!starts || !ends) return undefined;
  const axes = (read(3, 'axes') ?? starts.map((_, i) => i)).map((v) => normAxis(v, rank));
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  const i = axes.indexOf(a);
  if (i < 0) return undefined;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  return { start: clamp(starts[i]), end: clamp(ends[i]), step: steps[i] };
}

/** Gather: a single index removes the axis (a class token); several keep channels only. */
const gather: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  const [, idxName] = node.input ?? [];
  if (!x || !out) return [undefined];
  const ax = normAxis(attrInt(node, 'axis', 0), x.length);
  const idxDims = facts.dims(idxName) ?? [];
  const before = x.slice(0, ax);
  const after = x.slice(ax + 1);
  const mid: Part[][] = idxDims.map((d) =>
    x[ax].length === 1 && x[ax][0].kind === 'channel' ? [channel(d.size)] : unitOrUnknown(d.size),
  );
  const l = [...before, ...mid, ...after];
  return [l.length === out.length ? l : undefined];
};

/** MatMul/Gemm: rows keep the first operand's parts, columns the second's (or new channels). */
const matmul: Rule = (node, [a, b], facts) => {
  const out = outDims(node, facts);
  const [an, bn] = node.input ?? [];
  const ad = facts.dims(an);
  const bd = facts.dims(bn);
  if (!out || !ad || !bd || (!a && !b)) return [undefined];
  if (node.opType === 'Gemm') {
    const rows = a ? a[attrInt(node, 'transA', 0) ? 1 : 0] : unitOrUnknown(out[0].size);
    const cols = b ? b[attrInt(node, 'transB', 0) ? 0 : 1] : [channel(out[1].size)];
    return [[rows, cols]];
  }
  if (ad.length < 2 || bd.length < 2) return [undefined];
  const lead = out.slice(0, -2).map((d, i) => {
    const ia = i - (out.length - ad.length);
    const ib = i - (out.length - bd.length);
    const pa = a && ia >= 0 && ad[ia].size === d.size ? a[ia] : undefined;
    const pb = b && ib >= 0 && bd[ib].size === d.size ? b[ib] : undefined;
    if (pa && pb && !sameParts(pa, pb)) return unknownAxis(pa, d.size);
    return pa ?? pb ?? (d.batch ? [{ kind: 'batch' } as Part] : unitOrUnknown(d.size));
  });
  const rows = a ? a[a.length - 2] : unitOrUnknown(out[out.length - 2].size);
  const cols = b ? b[b.length - 1] : [channel(out[out.length - 1].size)];
  return [[...lead, rows, cols]];
};

/** Pad: padded spatial axes stay spatial (with the padding as cells), channels stay channels. */
const pad: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  const xDims = facts.dims((node.input ?? [])[0] ?? '');
  if (!x || !out || !xDims) return [undefined];
  if (attrString(node, 'mode', 'constant') !== 'constant') return [undefined];
  return [
    x.map((parts, a) =>
      out[a].size === xDims[a].size
        ? parts
        : cutAxis(node, parts, a, xDims[a].size, out[a].size, facts),
    ),
  ];
};

/** Resize/Upsample: resampled whole spatial axes stay spatial. */
const resample: Rule = (node, [x], facts) => {
  const out = outDims(node, facts);
  const xDims = facts.dims((node.input ?? [])[0] ?? '');
  if (!x || !out || !xDims) return [undefined];
  return [
    x.map((parts, a) => {
      if (out[a].size === xDims[a].size) return parts;
      return parts.length === 1 && isWhole(parts[0]) && !parts[0].pad
        ? [wholeAxis(parts[0].axis, out[a].size)]
        : unitOrUnknown(out[a].size);
    }),
  ];
};

/** Einsum: each output letter takes its parts from a labelled operand, else channels. */
const einsum: Rule = (node, ins, facts) => {
  const out = outDims(node, facts);
  const eq = attrString(node, 'equation', '').replace(/\s+/g, '');
  if (!out || eq.includes('...') || !eq.includes('->')) return [undefined];
  const [lhs, rhs] = eq.split('->');
  const terms = lhs.split(',');
  const l = [...rhs].map((c, i) => {
    for (let k = 0; k < terms.length; k++) {
      const j = terms[k].indexOf(c);
      if (j >= 0 && ins[k]) return (ins[k] as Layout)[j];
    }
    return [channel(out[i].size)];
  });
  return [l];
};

const RULES: Record<string, Rule> = {
  ...Object.fromEntries(POSITIONAL.map((op) => [op, positional])),
  ...Object.fromEntries(WINDOWED.map((op) => [op, windowed])),
  GlobalAveragePool: reduction,
  GlobalMaxPool: reduction,
  GlobalLpPool: reduction,
  ReduceMean: reduction,
  ReduceSum: reduction,
  ReduceMax: reduction,
  ReduceMin: reduction,
  ReduceL1: reduction,
  ReduceL2: reduction,
  ReduceProd: reduction,
  ReduceSumSquare: reduction,
  ReduceLogSum: reduction,
  ReduceLogSumExp: reduction,
  Transpose: transpose,
  Reshape: reshape,
  Flatten: reshape,
  Squeeze: reshape,
  Unsqueeze: reshape,
  Concat: concat,
  Slice: cut,
  Split: cut,
  Gather: gather,
  MatMul: matmul,
  Gemm: matmul,
  Pad: pad,
  Resize: resample,
  Upsample: resample,
  Einsum: einsum,
};

/** Output layouts of one node; ops without a rule lose every axis' meaning (but stay labelled). */
export function propagateNode(
  node: NodeProto,
  ins: (Layout | undefined)[],
  facts: NodeFacts,
): (Layout | undefined)[] {
  const outs = node.output ?? [];
  if (ins.every((l) => l === undefined)) return outs.map(() => undefined);
  if (node.opType === 'Shape' || node.opType === 'Size') return outs.map(() => undefined);
  const rule = !node.domain || node.domain === 'ai.onnx' ? RULES[node.opType ?? ''] : undefined;
  const result = rule ? rule(node, ins, facts) : [];
  return outs.map((o, k) => {
    if (!o || !facts.float(o)) return undefined;
    const got = result[k];
    const dims = facts.dims(o);
    if (got && dims && got.length === dims.length && got.every((parts, a) => fits(parts, dims[a])))
      return got;
    if (!dims) return undefined;
    // Derived from the image but unreadable: keep the batch axis only when it is obvious.
    return dims.map((d, a) =>
      a === 0 && d.batch ? [{ kind: 'batch' } as Part] : unitOrUnknown(d.size),
    );
  });
}

/** A layout's axis must account for the dim's size (and hold the batch iff it grows with it). */
function fits(parts: Part[], d: AxisDim): boolean {
  const size = parts.reduce((a, p) => a * partSize(p), 1);
  const batch = parts.some((p) => p.kind === 'batch');
  return size === d.size && batch === d.batch;
}
