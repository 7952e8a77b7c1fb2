/** Small ONNX models built in TypeScript for engine tests (node names carry module scopes). */
import {
  type AttrValue,
  encodeModel,
  floatTensor,
  int64Tensor,
  makeAttributes,
  makeModel,
  type NodeProto,
  type TensorProto,
  valueInfo,
} from '@camflow/onnx';

export class TinyModel {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private n = 0;
  private seed = 7;

  /** Adds a node named `<scope>/<Op>`; returns its output tensor (named after the node). */
  op(
    scope: string,
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
  ): string {
    const name = `/${scope}/${opType}_${this.n++}`;
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [`${name}_out`],
      attribute: makeAttributes(attrs),
    });
    return `${name}_out`;
  }

  /** A float initializer with deterministic values in +-scale (a sine sequence). */
  rand(dims: number[], scale = 0.5): string {
    const count = dims.reduce((a, d) => a * d, 1);
    const name = `w${this.inits.length}`;
    this.inits.push(
      floatTensor(
        name,
        dims,
        Array.from({ length: count }, () => scale * Math.sin(this.seed++ * 1.7)),
      ),
    );
    return name;
  }

  /** A float initializer with the given values. */
  floatsOf(values: number[], dims = [values.length]): string {
    const name = `f${this.inits.length}`;
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  ints(values: number[], dims = [values.length]): string {
    const name = `i${this.inits.length}`;
    this.inits.push(int64Tensor(name, dims, values));
    return name;
  }

  /** The model: input `x` with these non-batch dims, output `y` (the tensor given). */
  bytes(inputDims: number[], output: string, opset = 17): Uint8Array {
    for (const node of this.nodes)
      node.output = (node.output ?? []).map((o) => (o === output ? 'y' : o));
    for (const node of this.nodes)
      node.input = (node.input ?? []).map((i) => (i === output ? 'y' : i));
    return encodeModel(
      makeModel({
        opset,
        inputs: [valueInfo('x', ['N', ...inputDims])],
        outputs: [valueInfo('y', undefined)],
        nodes: this.nodes,
        initializers: this.inits,
      }),
    );
  }
}

/** Deterministic input data. */
export function inputOf(dims: number[], phase = 0.3): { data: Float32Array; dims: number[] } {
  const count = dims.reduce((a, d) => a * d, 1);
  return { data: Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.91 + phase)), dims };
}
