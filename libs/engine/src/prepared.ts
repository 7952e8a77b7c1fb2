import {
  cloneModel,
  decodeModel,
  defaultOpset,
  encodeModel,
  GraphIndex,
  type ModelProto,
  tensorDims,
  tensorValues,
} from '@camflow/onnx';
import { CompileError } from './errors.js';

/** A model made ready for compilation: batch dim symbolic, stale value_info dropped. */
export interface PreparedModel {
  model: ModelProto;
  /** The model's bytes with the batch made symbolic (the plain forward runs these). */
  bytes: Uint8Array;
  index: GraphIndex;
  opset: number;
  inputName: string;
  /** Declared non-batch input dims (-1 where symbolic). */
  inputDims: number[];
  outputName: string;
  /** Tensors computed from constants and shapes only (their values do not depend on the image). */
  shapeOnly: ReadonlySet<string>;
}

export function prepareModel(bytes: Uint8Array): PreparedModel {
  const model = cloneModel(decodeModel(bytes));
  const graph = model.graph as NonNullable<ModelProto['graph']>;
  const index0 = new GraphIndex(graph);
  if (index0.inputs.length !== 1) {
    throw new CompileError(
      `the model has ${index0.inputs.length} inputs; camflow explains single-input image models`,
    );
  }
  if (index0.outputs.length < 1) throw new CompileError('the model has no outputs');
  // A batch of any size: exports often fix the batch at 1 (and value_info with it).
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const dims = v.type?.tensorType?.shape?.dim;
    if (dims && dims.length > 0 && !index0.initializers.has(v.name ?? ''))
      dims[0] = { dimParam: 'N' };
  }
  graph.valueInfo = [];
  const index = new GraphIndex(graph);
  const input = (graph.input ?? []).find((v) => v.name === index.inputs[0]);
  const inputDims = (input?.type?.tensorType?.shape?.dim ?? []).slice(1).map((d) => {
    const v = d.dimValue;
    const n = typeof v === 'number' ? v : v ? v.toNumber() : 0;
    return n > 0 ? n : -1;
  });
  return {
    model,
    bytes: encodeModel(model),
    index,
    opset: defaultOpset(model),
    inputName: index.inputs[0],
    inputDims,
    outputName: index.outputs[0],
    shapeOnly: shapeOnlyTensors(index),
  };
}

/** Ops that give different values on every run. */
const RANDOM = new Set([
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
]);

/**
 * Tensors whose values follow from constants and tensor shapes alone (exports compute slice
 * bounds and reshape targets this way): a probe run may read them as constants.
 */
function shapeOnlyTensors(index: GraphIndex): Set<string> {
  const known = new Set<string>(index.initializers.keys());
  for (const n of index.nodes) {
    const op = n.opType ?? '';
    if (RANDOM.has(op)) continue;
    const ins = (n.input ?? []).filter(Boolean);
    if (op === 'Shape' || op === 'Size' || ins.every((i) => known.has(i))) {
      for (const o of n.output ?? []) if (o) known.add(o);
    }
  }
  return known;
}

/** Shape of an initializer or Constant value, for rules that read weights' shapes. */
export function constantShape(p: PreparedModel, name: string): number[] | undefined {
  const t = p.index.constantOf(name);
  return t ? tensorDims(t) : undefined;
}

/** Values of a small constant (axes, pads, shapes). */
export function constantValues(p: PreparedModel, name: string): number[] | undefined {
  const t = p.index.constantOf(name);
  return t ? tensorValues(t) : undefined;
}
