/**
 * Where each cell of a layer's feature map sits on the input: the centre of its theoretical
 * receptive field, `origin + stride * i` input pixels (pixel indices, so pixel p's centre is p).
 *
 * Upsampling a CAM like an image (the seed's PIL resize, cv2.resize) puts cell i's centre at
 * `(i + 0.5) * stride - 0.5`, which is right for 2x2 pooling but not for the 3x3 stride-2
 * convolutions with padding 1 of ResNets: there cell i looks at input pixel `stride * i`, and the
 * drawn heat lands `(stride - 1) / 2` pixels too far right and down (15.5 px for an 8x8 map of a
 * 256 input). The geometry follows from each layer's kernel, stride, padding and dilation
 * (Araujo et al., "Computing receptive fields of convolutional neural networks", Distill 2019):
 * `origin_out = origin_in + ((k - 1) * d / 2 - pad_begin) * stride_in`, `stride_out =
 * stride_in * s`.
 */
import { attrInt, attrInts, attrString } from './attributes.js';
import type { GraphIndex } from './graph.js';
import type { NodeProto } from './proto.js';
import { tensorDims, tensorValues } from './tensor.js';

/** A layer's cell grid on the input tensor, per spatial axis as [x, y] (width, height). */
export interface CellGrid {
  /** Input pixel (index) at the centre of cell (0, 0)'s receptive field. */
  origin: [number, number];
  /** Input pixels between neighbouring cells. */
  stride: [number, number];
}

/** Spatial geometry of one 4-D NCHW tensor: [y, x] per field. */
interface Geo {
  origin: [number, number];
  stride: [number, number];
}

/** Ops whose output is aligned pixel for pixel with their spatial inputs (no resampling). */
const POINTWISE = new Set([
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
  'Mish',
  'Clip',
  'Identity',
  'Dropout',
  'BatchNormalization',
  'InstanceNormalization',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Neg',
  'Abs',
  'Sqrt',
  'Exp',
  'Cast',
]);

/** Pools to 1x1: the result is the same everywhere (`GLOBAL`). */
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const GLOBAL: Geo = { origin: [0, 0], stride: [0, 0] };

const WINDOWED = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool']);

/**
 * The cell grid of `tensor` on the graph input `input` (both by name), or undefined when it
 * cannot be derived: an op that resamples or reshapes space on the way (Resize, transposed
 * convolution, Reshape, ...), `auto_pad` SAME with a stride (its padding depends on the size),
 * a non-4-D path, or branches that disagree.
 */
export function cellGrid(index: GraphIndex, input: string, tensor: string): CellGrid | undefined {
  // undefined: not derived from the input; null: derived, but the geometry is lost.
  const geo = new Map<string, Geo | null>([[input, { origin: [0, 0], stride: [1, 1] }]]);
  const needed = index.ancestors([tensor]);
  for (const node of index.nodes) {
    const outs = (node.output ?? []).filter(Boolean);
    if (!outs.some((o) => needed.has(o))) continue;
    const ins = (node.input ?? []).filter((i) => i && geo.has(i));
    if (ins.length === 0) continue;
    const out = propagate(index, node, ins, geo);
    for (const o of outs) geo.set(o, out);
  }
  const g = geo.get(tensor);
  if (!g || g === GLOBAL) return undefined;
  return { origin: [g.origin[1], g.origin[0]], stride: [g.stride[1], g.stride[0]] };
}

function propagate(
  index: GraphIndex,
  node: NodeProto,
  spatialInputs: string[],
  geo: Map<string, Geo | null>,
): Geo | null {
  const op = node.opType ?? '';
  if (GLOBAL_POOLS.has(op) || reducesSpace(index, node)) return GLOBAL;
  const all = spatialInputs.map((i) => geo.get(i) ?? null);
  if (all.some((g) => g === null)) return null;
  // A spatially constant input (squeeze-and-excitation gates) stays constant through any op
  // and broadcasts over whatever geometry it meets.
  if (all.every((g) => g === GLOBAL)) return GLOBAL;
  const inputs = all.filter((g) => g !== GLOBAL);
  const first = inputs[0] as Geo;
  if (WINDOWED.has(op)) {
    // Only the data input (0) carries space; weights are constants.
    if (node.input?.[0] !== spatialInputs[0] || all.length > 1 || first !== all[0]) return null;
    return windowed(index, node, first);
  }
  if (op === 'Pad') return padded(index, node, first);
  // Concat over channels (axis 1, or -3 of NCHW) keeps space; over any other axis it does not.
  if (op === 'Concat' && ![1, -3].includes(attrInt(node, 'axis', 0))) return null;
  if (!POINTWISE.has(op) && op !== 'Concat') return null;
  return inputs.every((g) => same(g as Geo, first)) ? first : null;
}

function same(a: Geo, b: Geo): boolean {
  const eq = (x: number, y: number) => Math.abs(x - y) < 1e-9;
  return (
    eq(a.origin[0], b.origin[0]) &&
    eq(a.origin[1], b.origin[1]) &&
    eq(a.stride[0], b.stride[0]) &&
    eq(a.stride[1], b.stride[1])
  );
}

function windowed(index: GraphIndex, node: NodeProto, g: Geo): Geo | null {
  let kernel = attrInts(node, 'kernel_shape');
  if (!kernel && node.opType === 'Conv') {
    const w = index.constantOf(node.input?.[1] ?? '');
    if (w) kernel = tensorDims(w).slice(2);
  }
  if (kernel?.length !== 2) return null;
  const strides = attrInts(node, 'strides') ?? [1, 1];
  const dilations = attrInts(node, 'dilations') ?? [1, 1];
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let begin: number[];
  if (autoPad === 'NOTSET') begin = (attrInts(node, 'pads') ?? [0, 0, 0, 0]).slice(0, 2);
  else if (autoPad === 'VALID') begin = [0, 0];
  else {
    // SAME_*: total padding (k - 1) * d only when the stride is 1; otherwise it depends on size.
    if (strides.some((s) => s !== 1)) return null;
    begin = kernel.map((k, a) => {
      const total = (k - 1) * dilations[a];
      return autoPad === 'SAME_LOWER' ? Math.ceil(total / 2) : Math.floor(total / 2);
    });
  }
  const axis = (a: 0 | 1) =>
    g.origin[a] + (((kernel[a] - 1) * dilations[a]) / 2 - begin[a]) * g.stride[a];
  return {
    origin: [axis(0), axis(1)],
    stride: [g.stride[0] * strides[0], g.stride[1] * strides[1]],
  };
}

function padded(index: GraphIndex, node: NodeProto, g: Geo): Geo | null {
  // opset >= 11 takes pads as input 1; older ones as an attribute. NCHW: [n, c, h, w, n, c, h, w].
  const t = node.input?.[1] ? index.constantOf(node.input[1]) : undefined;
  const pads = t ? tensorValues(t) : attrInts(node, 'pads');
  if (pads?.length !== 8 || node.input?.[3]) return null;
  return {
    origin: [g.origin[0] - pads[2] * g.stride[0], g.origin[1] - pads[3] * g.stride[1]],
    stride: g.stride,
  };
}

/** ReduceMean/Max/Sum/... over both spatial axes (how some exports write a global pool). */
function reducesSpace(index: GraphIndex, node: NodeProto): boolean {
  if (!(node.opType ?? '').startsWith('Reduce')) return false;
  const t = node.input?.[1] ? index.constantOf(node.input[1]) : undefined;
  const axes = t ? tensorValues(t) : attrInts(node, 'axes');
  if (!axes) return false;
  const norm = axes.map((a) => (a < 0 ? a + 4 : a));
  return norm.includes(2) && norm.includes(3);
}
