import { distinct, type GradCase, uniform } from '../harness.js';

const reduce = (op: string, axes: number[], sample = uniform(-1, 1), keepdims = 1): GradCase => ({
  name: `${op} opset 18 over [${axes}], keepdims ${keepdims}`,
  opset: 18,
  shape: [2, 3, 2, 3],
  sample,
  build: (n) => {
    const r = n.op(op, ['h', n.ints(axes)], { keepdims });
    n.output(n.op('Mul', [r, n.op('Tanh', [r])]));
  },
});

export const reductionCases: GradCase[] = [
  reduce('ReduceL2', [2, 3]),
  reduce('ReduceL1', [1], uniform(0.1, 1)),
  reduce('ReduceSumSquare', [1, 2, 3]),
  reduce('ReduceLogSum', [2, 3], uniform(0.2, 1.5), 0),
  reduce('ReduceLogSumExp', [1]),
  reduce('ReduceMin', [3], distinct()),
  {
    name: 'ReduceL2 opset 13 (axes attribute) over the last axis, a zero row',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('ReduceL2', ['h'], { axes: [2], keepdims: 0 })),
  },
];
