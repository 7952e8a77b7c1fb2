import { type AttrValue, makeAttributes } from './attributes.js';
import type { GraphProto, NodeProto } from './proto.js';
import { floatTensor, int64Tensor } from './tensor.js';

/**
 * Appends nodes to a graph with unique names, and emits the opset-correct form of ops whose
 * signature changed across opsets (axes, pads and split sizes moved from attributes to inputs).
 */
export class GraphBuilder {
  private counter = 0;
  private readonly taken = new Set<string>();

  constructor(
    readonly graph: GraphProto,
    readonly opset: number,
    private readonly prefix = 'camflow',
  ) {
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) this.taken.add(o);
      if (n.name) this.taken.add(n.name);
    }
    for (const t of graph.initializer ?? []) this.taken.add(t.name ?? '');
    for (const v of graph.input ?? []) this.taken.add(v.name ?? '');
  }

  /** A fresh tensor name. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Adds a node; returns its output names. */
  nodeN(
    opType: string,
    inputs: string[],
    nOutputs: number,
    attrs: Record<string, AttrValue | undefined> = {},
  ): string[] {
    const outputs = Array.from({ length: nOutputs }, () => this.fresh(opType));
    const node: NodeProto = {
      opType,
      input: inputs,
      output: outputs,
      name: this.fresh(`${opType}_node`),
      attribute: makeAttributes(attrs),
    };
    this.graph.node = [...(this.graph.node ?? []), node];
    return outputs;
  }

  /** Adds a single-output node; returns its output name. */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue | undefined> = {},
  ): string {
    return this.nodeN(opType, inputs, 1, attrs)[0];
  }

  /** A float32 constant (an initializer). A scalar when dims is []. */
  floats(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const name = this.fresh('const');
    this.graph.initializer = [...(this.graph.initializer ?? []), floatTensor(name, dims, values)];
    return name;
  }

  /** An int64 constant (an initializer). */
  ints(values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const');
    this.graph.initializer = [...(this.graph.initializer ?? []), int64Tensor(name, dims, values)];
    return name;
  }

  private reduce(op: string, x: string, axes: number[], keepdims: boolean, axesAsInput: boolean) {
    const k = keepdims ? 1 : 0;
    if (axesAsInput) return this.node(op, [x, this.ints(axes)], { keepdims: k });
    return this.node(op, [x], { axes, keepdims: k });
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceSum', x, axes, keepdims, this.opset >= 13);
  }

  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceMean', x, axes, keepdims, this.opset >= 18);
  }

  reduceMin(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceMin', x, axes, keepdims, this.opset >= 18);
  }

  reduceMax(x: string, axes: number[], keepdims: boolean): string {
    return this.reduce('ReduceMax', x, axes, keepdims, this.opset >= 18);
  }

  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.node('Unsqueeze', [x, this.ints(axes)]);
    return this.node('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.node('Squeeze', [x, this.ints(axes)]);
    return this.node('Squeeze', [x], { axes });
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    if (this.opset >= 10) {
      const ins = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
      if (steps) ins.push(this.ints(steps));
      return this.node('Slice', ins);
    }
    if (steps?.some((s) => s !== 1)) throw new Error('Slice steps need opset >= 10');
    return this.node('Slice', [x], { starts, ends, axes });
  }

  /** Constant-mode zero padding; pads as [begin..., end...]. */
  pad(x: string, pads: number[]): string {
    if (this.opset >= 11) return this.node('Pad', [x, this.ints(pads)], { mode: 'constant' });
    return this.node('Pad', [x], { pads, mode: 'constant' });
  }

  /** Reshape to a constant shape (0 copies the input's dim, -1 infers). */
  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.ints(shape)]);
  }

  /** Zeros with the run-time shape of `like`. */
  zerosLike(like: string): string {
    const shape = this.node('Shape', [like]);
    return this.node('ConstantOfShape', [shape]);
  }
}
