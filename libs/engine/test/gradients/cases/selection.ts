import { distinct, type GradCase, type Net, uniform } from '../harness.js';

const bools = (n: Net, dims: number[]) => n.op('Greater', [n.rand(dims), n.floats([0], [])]);

export const selectionCases: GradCase[] = [
  {
    name: 'Where: constant condition [C, L] broadcast, h vs sigmoid(h)',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Where', [bools(n, [3, 4]), 'h', n.op('Sigmoid', ['h'])])),
  },
  {
    name: 'Where: condition from h (a ReLU), scalar other branch',
    shape: [2, 3, 4],
    build: (n) => {
      const cond = n.op('Greater', ['h', n.floats([0], [])]);
      n.output(n.op('Mul', [n.op('Where', [cond, 'h', n.floats([0.5], [])]), n.rand([3, 4])]));
    },
  },
  {
    name: 'Where: a broadcast [N, C, 1] operand from h',
    shape: [2, 3, 4],
    build: (n) => {
      const pooled = n.op('ReduceSum', ['h', n.ints([2])], { keepdims: 1 });
      n.output(n.op('Where', [bools(n, [3, 4]), pooled, n.op('Tanh', ['h'])]));
    },
  },
  {
    name: 'Max of h, 2 sigmoid(h) and a broadcast constant',
    shape: [2, 3, 4],
    sample: distinct(0.07),
    build: (n) =>
      n.output(
        n.op('Max', ['h', n.op('Mul', [n.op('Sigmoid', ['h']), n.floats([2], [])]), n.rand([4])]),
      ),
  },
  {
    name: 'Min of h and a broadcast [N, C, 1] from h',
    shape: [2, 3, 4],
    sample: distinct(0.07),
    build: (n) => {
      const m = n.op('ReduceSum', ['h', n.ints([2])], { keepdims: 1 });
      n.output(n.op('Min', ['h', m]));
    },
  },
  {
    name: 'Max with ties shared (h with itself)',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Max', ['h', 'h'])),
  },
  {
    name: 'Mean of three, one broadcast',
    shape: [2, 3, 4],
    build: (n) =>
      n.output(
        n.op('Mean', [
          'h',
          n.op('Mul', ['h', 'h']),
          n.op('ReduceSum', ['h', n.ints([1])], { keepdims: 1 }),
        ]),
      ),
  },
  {
    name: 'Gather scalar index on the token axis (ViT class token) then a head',
    shape: [2, 5, 4],
    build: (n) => {
      const cls = n.op('Gather', ['h', n.ints([0], [])], { axis: 1 });
      n.output(n.op('Gemm', [cls, n.rand([3, 4])], { transB: 1 }));
    },
  },
  {
    name: 'Gather 2-D indices with a repeat, axis 1',
    shape: [2, 4, 3],
    build: (n) => {
      const g = n.op('Gather', ['h', n.ints([0, 2, 2, 3], [2, 2])], { axis: 1 });
      n.output(n.op('Mul', [g, n.rand([2, 2, 3])]));
    },
  },
  {
    name: 'Gather negative index on the last axis',
    shape: [2, 3, 4],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Gather', ['h', n.ints([-1, 0])], { axis: -1 }), n.rand([3, 2])])),
  },
  {
    name: 'GatherElements opset 16, indices from a constant expanded to the batch, repeats add',
    opset: 16,
    shape: [2, 3, 4],
    build: (n) => {
      const idx = n.op('Expand', [
        n.ints([0, 2, 2, 1, 1, 1, 0, 0, 2, 0, 1, 2], [1, 3, 4]),
        n.op('Shape', ['h']),
      ]);
      n.output(n.op('Mul', [n.op('GatherElements', ['h', idx], { axis: 1 }), n.rand([3, 4])]));
    },
  },
  {
    name: 'Expand [N, 1, 4] to [N, 3, 4] and a leading axis',
    shape: [2, 1, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Expand', ['h', n.ints([1, 3, 4])]), n.rand([3, 4])])),
  },
  {
    name: 'Tile repeats [1, 2, 3]',
    shape: [2, 2, 2],
    build: (n) => n.output(n.op('Mul', [n.op('Tile', ['h', n.ints([1, 2, 3])]), n.rand([4, 6])])),
  },
  {
    name: 'Slice steps 2 on two axes (Swin patch merging x[:, 1::2, 0::2, :])',
    shape: [2, 5, 6, 3],
    build: (n) => {
      const s = n.op('Slice', [
        'h',
        n.ints([1, 0]),
        n.ints([2 ** 40, 2 ** 40]),
        n.ints([1, 2]),
        n.ints([2, 2]),
      ]);
      n.output(n.op('Mul', [s, n.rand([2, 3, 3])]));
    },
  },
  {
    name: 'Slice step -1 (a flip) and step -2 from the end',
    shape: [2, 3, 7],
    build: (n) => {
      const flip = n.op('Slice', [
        'h',
        n.ints([-1]),
        n.ints([-(2 ** 40)]),
        n.ints([2]),
        n.ints([-1]),
      ]);
      const back2 = n.op('Slice', [
        'h',
        n.ints([5, 2]),
        n.ints([0, -(2 ** 40)]),
        n.ints([2, 1]),
        n.ints([-2, -1]),
      ]);
      const flat = (t: string) => n.op('Flatten', [t], { axis: 1 });
      n.output(
        n.op('Concat', [flat(n.op('Mul', [flip, n.rand([3, 7])])), flat(back2)], { axis: 1 }),
      );
    },
    sample: uniform(-1, 1),
  },
];
