import {
  camView,
  type GraphIndex,
  inferInputLayout,
  type Layout,
  modulePaths,
  type NodeProto,
  type Part,
  resolveLayer,
  tensorLayouts,
} from '@camflow/onnx';
import { CompileError } from './errors.js';
import { nodeFacts } from './layer-view.js';
import type { PreparedModel } from './prepared.js';
import { probeTensors } from './probe.js';
import type { RuntimeOptions } from './runtime.js';

/**
 * The usual Grad-CAM layer: the last spatial feature map (h * w > 1, in whatever layout the graph
 * gives it) on the way to the output, right before a node collapses space (global pooling, a
 * full-size Conv, Flatten, picking the class token). When the head reads only the class token,
 * the patch tokens' gradients are zero after the last attention, so the layer is the last module
 * output feeding that attention (pytorch-grad-cam's `blocks[-1].norm1` for ViTs).
 */
export async function defaultLayerTensor(
  p: PreparedModel,
  sample: number[],
  runtime: RuntimeOptions,
): Promise<string> {
  const up = p.index.ancestors([p.outputName]);
  const tensors = p.index.nodes.flatMap((n) => (n.output ?? []).filter((o) => o && up.has(o)));
  const probe = await probeTensors(p.model, p.inputName, sample, tensors, runtime, p.shapeOnly);
  const facts = nodeFacts(p, probe);
  const layouts = tensorLayouts(
    p.index,
    p.inputName,
    inferInputLayout(p.index, p.inputName, facts),
    facts,
    tensors,
  );
  const isMap = (t: string) => {
    const l = layouts.get(t);
    const f = probe.tensors.get(t);
    if (!l || !f || f.type !== 'float32') return false;
    try {
      const v = camView(l, f.shape);
      return v.height * v.width > 1;
    } catch {
      return false;
    }
  };
  let best: string | undefined;
  let collapser: NodeProto | undefined;
  for (const n of p.index.nodes) {
    const outs = (n.output ?? []).filter((o) => probe.tensors.get(o)?.type === 'float32');
    if (outs.length === 0 || outs.some(isMap)) continue;
    const mapIn = (n.input ?? []).find((i) => i && isMap(i));
    if (mapIn) {
      best = mapIn;
      collapser = n;
    }
  }
  if (!best)
    throw new CompileError('the model has no spatial feature map before its output; name a layer');
  if (collapser && readsExtraTokensOnly(collapser, layouts.get(best))) {
    const mixer = lastTokenMixer(p.index, best, layouts);
    if (mixer) {
      const feeding = p.index.ancestors((mixer.input ?? []).filter(Boolean));
      const outputs = scopeOutputs(p.index);
      const candidates = tensors.filter((t) => feeding.has(t) && outputs.has(t) && isMap(t));
      if (candidates.length > 0) best = candidates[candidates.length - 1];
    }
  }
  return best;
}

/** A Gather or Slice that keeps none of the grid tokens (the class token). */
function readsExtraTokensOnly(node: NodeProto, layout: Layout | undefined): boolean {
  if (!layout || !['Gather', 'Slice'].includes(node.opType ?? '')) return false;
  return layout.some((axis) => axis.length === 1 && axis[0].kind === 'tokens');
}

/**
 * The last node before `tensor` that mixes tokens: a MatMul contracting a token axis (attention
 * weights x values) or a reduction over one.
 */
function lastTokenMixer(
  index: GraphIndex,
  tensor: string,
  layouts: Map<string, Layout | undefined>,
): NodeProto | undefined {
  const up = index.ancestors([tensor]);
  const spatial = (axis: Part[] | undefined) =>
    axis?.some((q) => q.kind === 'tokens' || q.kind === 'space') ?? false;
  const count = (l: Layout | undefined) => l?.filter(spatial).length ?? 0;
  let found: NodeProto | undefined;
  for (const n of index.nodes) {
    if (!(n.output ?? []).some((o) => up.has(o))) continue;
    const [a, b] = (n.input ?? []).map((i) => layouts.get(i));
    const y = layouts.get((n.output ?? [])[0] ?? '');
    if (n.opType === 'MatMul' && a && spatial(b?.[b.length - 2])) found = n;
    if ((n.opType ?? '').startsWith('Reduce') && count(a) > count(y)) found = n;
  }
  return found;
}

/** Tensors that are some module's output (what a user would name as a layer). */
function scopeOutputs(index: GraphIndex): Set<string> {
  const out = new Set<string>();
  for (const path of modulePaths(index)) {
    try {
      out.add(resolveLayer(index, path).tensor);
    } catch {
      // a scope without an output of its own
    }
  }
  return out;
}

/**
 * The friendliest name of a tensor: among the modules whose output it is, the shallowest at
 * depth >= 2 (`resnet_blocks.4`, `features.18`, `layer4.1`, like pytorch-grad-cam's
 * `model.features[-1]`), else a top-level module, else the tensor name.
 */
export function layerNameOf(index: GraphIndex, tensor: string): string {
  const depth = (p: string) => p.split('.').length;
  const owners = modulePaths(index).filter((path) => {
    try {
      return resolveLayer(index, path).tensor === tensor;
    } catch {
      return false;
    }
  });
  owners.sort((a, b) => depth(a) - depth(b));
  return owners.find((p) => depth(p) >= 2) ?? owners[0] ?? tensor;
}
