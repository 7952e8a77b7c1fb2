import {
  type ModelProto,
  type NodeProto,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';
import { DataType } from './tensor.js';

/** A dimension: a fixed size or a symbolic name (e.g. 'N' for the batch). */
export type Dim = number | string;

/** A graph output with no declared type: ONNX Runtime infers it (used to expose intermediate tensors). */
export function untypedOutput(name: string): ValueInfoProto {
  return { name };
}

/** A tensor's type and shape, as graph inputs and outputs declare it. */
export function valueInfo(
  name: string,
  dims: Dim[] | undefined,
  elemType: number = DataType.FLOAT,
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims
          ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
          : undefined,
      },
    },
  };
}

export interface ModelSpec {
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  nodes: NodeProto[];
  initializers?: TensorProto[];
  opset?: number;
  name?: string;
}

/** A ModelProto from parts: how tests and generators build models without Python. */
export function makeModel(spec: ModelSpec): ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'camflow',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: spec.name ?? 'graph',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
  });
}
