import { type GraphIndex, modulePaths, resolveLayer } from '@camflow/onnx';
import { CompileError } from './errors.js';
import type { PreparedModel } from './prepared.js';
import { probeTensors } from './probe.js';
import type { RuntimeOptions } from './runtime.js';

const spatialSize = (s: number[]) => s.slice(2).reduce((a, d) => a * d, 1);

/**
 * The usual Grad-CAM layer: the last 4-D feature map (H*W > 1) on the way to the output, right
 * before a node collapses its spatial dimensions (global pooling, a full-size Conv, Flatten).
 */
export async function defaultLayerTensor(
  p: PreparedModel,
  sample: number[],
  runtime: RuntimeOptions,
): Promise<string> {
  const up = p.index.ancestors([p.outputName]);
  const tensors = p.index.nodes.flatMap((n) => (n.output ?? []).filter((o) => o && up.has(o)));
  const { tensors: facts } = await probeTensors(p.model, p.inputName, sample, tensors, runtime);
  const isMap = (t: string) => {
    const f = facts.get(t);
    return (
      f !== undefined && f.type === 'float32' && f.shape.length === 4 && spatialSize(f.shape) > 1
    );
  };
  let best: string | undefined;
  for (const n of p.index.nodes) {
    const outs = (n.output ?? []).filter((o) => facts.get(o)?.type === 'float32');
    if (outs.length === 0 || outs.some(isMap)) continue;
    const mapIn = (n.input ?? []).find((i) => i && isMap(i));
    if (mapIn) best = mapIn;
  }
  if (!best)
    throw new CompileError('the model has no 4-D feature map before its output; name a layer');
  return best;
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
