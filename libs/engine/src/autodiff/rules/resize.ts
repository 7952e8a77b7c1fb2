import { type AttributeProto, attrInts, attrString, type NodeProto } from '@camflow/onnx';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';
import { contractAxis } from '../helpers.js';

/**
 * Resize (and the older Upsample) is linear in X and separable: along each resized axis the
 * output is M_a X with a fixed [out, in] matrix that depends on the mode (nearest, linear,
 * cubic), the coordinate transformation, antialiasing and the scale. Rather than re-deriving
 * ONNX Runtime's weights, the rule lets the same op resize an identity basis along one axis at a
 * time (ORT folds it to a constant) and contracts dY with the transposed matrix: dX = M_a^T dY,
 * axis after axis. tf_crop_and_resize (affine, with an extrapolation value) is not handled.
 */
const resize: GradRule = (node, ctx, [dy], needs) => {
  const out = needs.map(() => undefined as string | undefined);
  if (needs.slice(1).some(Boolean))
    throw new RuleLimitError('sizes or scales that depend on the hooked layer');
  if (!needs[0] || !dy) return out;
  const x = (node.input ?? [])[0];
  const inShape = ctx.shape(x);
  const outShape = ctx.shape((node.output ?? [])[0]);
  const rank = inShape.length;
  if (attrString(node, 'coordinate_transformation_mode', '') === 'tf_crop_and_resize') {
    throw new RuleLimitError('tf_crop_and_resize');
  }
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') {
    throw new RuleLimitError('keep_aspect_ratio_policy other than stretch');
  }
  const scales = fullScales(node, ctx, rank);
  let g = dy;
  for (let a = rank - 1; a >= 0; a--) {
    const same = inShape[a] === outShape[a] && (!scales || scales[a] === 1);
    if (same) continue;
    if (inShape[a] < 0 || outShape[a] < 0) throw new RuleLimitError('Resize along the batch axis');
    if (a === 0) throw new RuleLimitError('Resize along axis 0');
    const m = axisMatrix(node, ctx, rank, a, inShape[a], outShape[a], scales?.[a]);
    g = contractAxis(ctx, g, a, rank, m);
  }
  out[0] = g;
  return out;
};

/** The node's scales over all axes, when it resizes by scales (undefined when by sizes). */
function fullScales(node: NodeProto, ctx: RuleContext, rank: number): number[] | undefined {
  const ins = node.input ?? [];
  let name: string | undefined;
  if (node.opType === 'Upsample') {
    if (ctx.opset < 9) {
      const attr = node.attribute?.find((a: AttributeProto) => a.name === 'scales');
      return attr?.floats ? [...attr.floats] : undefined;
    }
    name = ins[1];
  } else {
    name = ctx.opset < 11 ? ins[1] : ins[2];
    // Resize-11+: sizes (input 3) are used when scales are absent or empty.
    if (ctx.opset >= 11 && ins[3]) return undefined;
  }
  if (!name) return undefined;
  const values = ctx.constant(name);
  if (!values) throw new RuleLimitError('Resize scales computed at run time');
  if (values.length === 0) return undefined;
  const axes = attrInts(node, 'axes');
  if (!axes) return values;
  const full = new Array<number>(rank).fill(1);
  axes.forEach((ax, i) => {
    full[ax < 0 ? ax + rank : ax] = values[i];
  });
  return full;
}

/**
 * [out, in] resampling matrix of axis `a`: the node's own op and attributes applied to an
 * identity basis [in, 1.., in (axis a), ..1] with only axis a resized.
 */
function axisMatrix(
  node: NodeProto,
  ctx: RuleContext,
  rank: number,
  a: number,
  size: number,
  outSize: number,
  scale: number | undefined,
): string {
  const b = ctx.b;
  const basisDims = new Array<number>(rank).fill(1);
  basisDims[0] = size;
  basisDims[a] = size;
  const eye = new Array<number>(size * size).fill(0);
  for (let i = 0; i < size; i++) eye[i * size + i] = 1;
  const basis = b.floats(eye, basisDims);
  const attrs = (node.attribute ?? []).filter((x) => x.name !== 'axes' && x.name !== 'scales');
  const scales = new Array<number>(rank).fill(1);
  scales[a] = scale ?? outSize / size;
  let inputs: string[];
  if (node.opType === 'Upsample') {
    if (ctx.opset < 9) attrs.push({ name: 'scales', type: 6, floats: scales });
    inputs = ctx.opset < 9 ? [basis] : [basis, b.floats(scales)];
  } else if (ctx.opset < 11) {
    inputs = [basis, b.floats(scales)];
  } else if (scale !== undefined) {
    inputs = [basis, '', b.floats(scales)];
  } else {
    const sizes = [...basisDims];
    sizes[a] = outSize;
    inputs = [basis, '', '', b.ints(sizes)];
  }
  const resized = b.node(node.opType ?? 'Resize', inputs);
  const graphNode = b.graph.node?.[b.graph.node.length - 1];
  if (graphNode) graphNode.attribute = attrs;
  // Row k of the result is M's column k: [in, 1.., out, ..1] -> [in, out] = M^T -> M.
  return b.node('Transpose', [b.reshape(resized, [size, outSize])], { perm: [1, 0] });
}

export const resizeRules: Record<string, GradRule> = {
  Resize: resize,
  Upsample: resize,
};
