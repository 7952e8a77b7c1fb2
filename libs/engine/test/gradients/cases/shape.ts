import type { GradCase } from '../harness.js';

export const shapeCases: GradCase[] = [
  {
    name: 'Identity',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Identity', [n.op('Mul', ['h', 'h'])])),
  },
  {
    name: 'Dropout opset 11 (ratio attribute, mask output)',
    opset: 11,
    shape: [2, 3, 4],
    build: (n) => {
      const [y] = n.opN('Dropout', [n.op('Mul', ['h', 'h'])], 2, { ratio: { float: 0.3 } });
      n.output(y);
    },
  },
  {
    name: 'Dropout opset 13 (ratio input)',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Dropout', [n.op('Mul', ['h', 'h']), n.floats([0.5], [])])),
  },
  {
    name: 'Cast float -> float',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Cast', [n.op('Mul', ['h', 'h'])], { to: 1 })),
  },
  {
    name: 'Flatten axis=1 on 4-D, then a nonlinearity',
    shape: [2, 2, 3, 4],
    build: (n) => n.output(n.op('Sigmoid', [n.op('Flatten', ['h'], { axis: 1 })])),
  },
  {
    name: 'Flatten axis=-3 on 4-D (= 1)',
    shape: [2, 2, 3, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Flatten', ['h'], { axis: -3 }), n.rand([1, 24])])),
  },
  {
    name: 'Flatten default axis on 3-D',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Flatten', ['h']), n.op('Flatten', ['h'])])),
  },
  {
    name: 'Reshape [0, -1] and back to [0, 3, 2, 4]',
    shape: [2, 3, 2, 4],
    build: (n) => {
      const flat = n.op('Reshape', ['h', n.ints([0, -1])]);
      const back = n.op('Reshape', [n.op('Tanh', [flat]), n.ints([0, 3, 2, 4])]);
      n.output(n.op('Mul', [back, n.rand([3, 2, 4])]));
    },
  },
  {
    name: 'Reshape [-1, 4, 6] (regrouped elements)',
    shape: [2, 3, 8],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Reshape', ['h', n.ints([-1, 4, 6])]), n.rand([4, 6])])),
  },
  {
    name: 'Transpose perm [0, 2, 3, 1] (NCHW -> NHWC), times a constant',
    shape: [2, 3, 2, 4],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Transpose', ['h'], { perm: [0, 2, 3, 1] }), n.rand([2, 4, 3])])),
  },
  {
    name: 'Transpose default perm (reversed) twice, nonlinearity between',
    shape: [2, 3, 4],
    build: (n) => {
      const t = n.op('Transpose', [n.op('Mul', ['h', n.rand([3, 4])])]);
      n.output(n.op('Transpose', [n.op('Sigmoid', [t])]));
    },
  },
  {
    name: 'Concat axis=1: h, sigmoid(h) and a tensor from below the hook',
    shape: [2, 2, 3, 3],
    build: (n) => {
      const below = n.belowHook([3, 3, 3]);
      const c = n.op('Concat', ['h', n.op('Sigmoid', ['h']), below], { axis: 1 });
      n.output(n.op('Mul', [c, n.rand([7, 3, 3])]));
    },
  },
  {
    name: 'Concat axis=-1: the same tensor twice, constant first',
    shape: [2, 3, 4],
    build: (n) => {
      const below = n.belowHook([3, 2]);
      const t = n.op('Tanh', ['h']);
      const c = n.op('Concat', [below, t, t], { axis: -1 });
      n.output(n.op('Mul', [c, n.rand([3, 10])]));
    },
  },
  {
    name: 'Split opset 13, sizes input [1, 2, 1] on axis 1, outputs 0 and 2 used',
    opset: 13,
    shape: [2, 4, 3],
    build: (n) => {
      const [a, , c] = n.opN('Split', ['h', n.ints([1, 2, 1])], 3, { axis: 1 });
      n.output(n.op('Concat', [n.op('Mul', [a, a]), n.op('Sigmoid', [c])], { axis: 1 }));
    },
  },
  {
    name: 'Split opset 13, equal parts on axis -1, only the middle output used',
    opset: 13,
    shape: [2, 3, 6],
    build: (n) => {
      const [, b] = n.opN('Split', ['h'], 3, { axis: -1 });
      n.output(n.op('Mul', [b, b]));
    },
  },
  {
    name: 'Split opset 18, num_outputs=3 of 5 (uneven: 2, 2, 1), only the last used',
    opset: 18,
    shape: [2, 5, 3],
    build: (n) => {
      const [, , c] = n.opN('Split', ['h'], 3, { axis: 1, num_outputs: 3 });
      n.output(n.op('Mul', [c, c]));
    },
  },
  {
    name: 'Split opset 18, sizes input, all outputs used',
    opset: 18,
    shape: [2, 5, 3],
    build: (n) => {
      const [a, b] = n.opN('Split', ['h', n.ints([3, 2])], 2, { axis: 1 });
      n.output(n.op('Concat', [n.op('Mul', [b, b]), n.op('Tanh', [a])], { axis: 1 }));
    },
  },
  {
    name: 'Split opset 11, split attribute',
    opset: 11,
    shape: [2, 5, 3],
    build: (n) => {
      const [, b] = n.opN('Split', ['h'], 2, { axis: 1, split: [2, 3] });
      n.output(n.op('Mul', [b, b]));
    },
  },
  {
    name: 'Slice opset 13: negative start, clamped end, axes subset [2, 3]',
    opset: 13,
    shape: [2, 2, 5, 6],
    build: (n) => {
      const s = n.op('Slice', ['h', n.ints([-4, 1]), n.ints([1000, 5]), n.ints([2, 3])]);
      n.output(n.op('Mul', [s, s]));
    },
  },
  {
    name: 'Slice opset 13: negative axes and ends, start clamped below 0, steps 1',
    opset: 13,
    shape: [2, 3, 6],
    build: (n) => {
      const s = n.op('Slice', [
        'h',
        n.ints([-100, 1]),
        n.ints([-1, -1]),
        n.ints([-1, -2]),
        n.ints([1, 1]),
      ]);
      n.output(n.op('Mul', [s, s]));
    },
  },
  {
    name: 'Slice opset 10: axes input, no steps',
    opset: 10,
    shape: [2, 4, 5],
    build: (n) => {
      const s = n.op('Slice', ['h', n.ints([1, 2]), n.ints([3, 5]), n.ints([1, 2])]);
      n.output(n.op('Mul', [s, s]));
    },
  },
  {
    name: 'Slice opset 9: attributes',
    opset: 9,
    shape: [2, 4, 5],
    build: (n) => {
      const s = n.op('Slice', ['h'], { starts: [1, -3], ends: [3, 100], axes: [1, 2] });
      n.output(n.op('Mul', [s, s]));
    },
  },
  {
    name: 'Squeeze opset 11 (axes attribute)',
    opset: 11,
    shape: [2, 3, 1, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Squeeze', ['h'], { axes: [2] }), n.rand([3, 4])])),
  },
  {
    name: 'Squeeze opset 13 (axes input, negative axis)',
    opset: 13,
    shape: [2, 3, 4, 1],
    build: (n) => n.output(n.op('Mul', [n.op('Squeeze', ['h', n.ints([-1])]), n.rand([3, 4])])),
  },
  {
    name: 'Unsqueeze opset 11 (axes attribute)',
    opset: 11,
    shape: [2, 3, 4],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Unsqueeze', ['h'], { axes: [1, 3] }), n.rand([1, 3, 1, 4])])),
  },
  {
    name: 'Unsqueeze opset 13 (axes input)',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Unsqueeze', ['h', n.ints([-1])]), n.rand([3, 4, 2])])),
  },
  {
    name: 'Pad opset 11, constant mode, pads input, constant value',
    opset: 11,
    shape: [2, 2, 3, 4],
    build: (n) => {
      const p = n.op('Pad', ['h', n.ints([0, 0, 1, 2, 0, 0, 2, 1]), n.floats([0.3], [])], {
        mode: 'constant',
      });
      n.output(n.op('Mul', [p, n.op('Sigmoid', [p])]));
    },
  },
  {
    name: 'Pad opset 13, channel padding',
    opset: 13,
    shape: [2, 2, 3],
    build: (n) => {
      const p = n.op('Pad', ['h', n.ints([0, 1, 0, 0, 2, 1])]);
      n.output(n.op('Mul', [p, p]));
    },
  },
  {
    name: 'Pad opset 10, pads attribute',
    opset: 10,
    shape: [2, 2, 3],
    build: (n) => {
      const p = n.op('Pad', ['h'], { pads: [0, 0, 1, 0, 1, 2], mode: 'constant' });
      n.output(n.op('Mul', [p, p]));
    },
  },
];
