import { type GradCase, uniform } from '../harness.js';

export const normalizationCases: GradCase[] = [
  {
    name: 'LayerNormalization opset 17 over the last axis (tokens [N, T, C])',
    shape: [2, 5, 6],
    sample: uniform(-2, 2),
    build: (n) => {
      const y = n.op('LayerNormalization', ['h', n.rand([6], 0.5, 1), n.rand([6], 0.2)], {
        axis: -1,
        epsilon: { float: 1e-5 },
      });
      n.output(n.op('Mul', [y, n.rand([5, 6])]));
    },
  },
  {
    name: 'LayerNormalization axis=1 over [C, L] (two axes), no bias',
    shape: [2, 3, 4],
    sample: uniform(-2, 2),
    build: (n) =>
      n.output(
        n.op('Mul', [
          n.op('LayerNormalization', ['h', n.rand([3, 4], 0.5, 1)], { axis: 1 }),
          n.rand([3, 4]),
        ]),
      ),
  },
  {
    name: 'ConvNeXt block norm: Transpose to NHWC, LayerNormalization, Transpose back',
    shape: [2, 3, 2, 3],
    sample: uniform(-2, 2),
    build: (n) => {
      const nhwc = n.op('Transpose', ['h'], { perm: [0, 2, 3, 1] });
      const ln = n.op('LayerNormalization', [nhwc, n.rand([3], 0.5, 1), n.rand([3], 0.2)], {
        axis: -1,
      });
      const back = n.op('Transpose', [ln], { perm: [0, 3, 1, 2] });
      n.output(n.op('Mul', [back, n.rand([3, 2, 3])]));
    },
  },
  {
    name: 'InstanceNormalization on [N, C, H, W]',
    shape: [2, 3, 3, 3],
    sample: uniform(-2, 2),
    build: (n) => {
      const y = n.op('InstanceNormalization', ['h', n.rand([3], 0.5, 1), n.rand([3], 0.2)], {
        epsilon: { float: 1e-5 },
      });
      n.output(n.op('Mul', [y, n.rand([3, 3, 3])]));
    },
  },
  {
    name: 'GroupNormalization opset 18 (scale per group), 2 groups of 2 channels',
    opset: 18,
    shape: [2, 4, 2, 3],
    sample: uniform(-2, 2),
    build: (n) => {
      const y = n.op('GroupNormalization', ['h', n.rand([2], 0.5, 1), n.rand([2], 0.2)], {
        num_groups: 2,
      });
      n.output(n.op('Mul', [y, n.rand([4, 2, 3])]));
    },
  },
  {
    name: 'GroupNormalization opset 21 (scale per channel), 2 groups of 2 channels',
    opset: 21,
    shape: [2, 4, 2, 3],
    sample: uniform(-2, 2),
    build: (n) => {
      const y = n.op('GroupNormalization', ['h', n.rand([4], 0.5, 1), n.rand([4], 0.2)], {
        num_groups: 2,
      });
      n.output(n.op('Mul', [y, n.rand([4, 2, 3])]));
    },
  },
];
