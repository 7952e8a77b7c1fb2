import { it } from 'vitest';
import { checkGradient, distinct, type GradCase } from './harness.js';

const cases: GradCase[] = [
  {
    name: 'maxpool storage_order=1 with Indices used',
    opset: 12,
    shape: [2, 2, 4, 6],
    sample: distinct(),
    build: (n) => {
      const [y] = n.opN('MaxPool', ['h'], 2, {
        kernel_shape: [2, 2],
        strides: [2, 2],
        storage_order: 1,
      });
      n.output(y);
    },
  },
  {
    name: 'maxpool storage_order=1, Indices unused',
    opset: 12,
    shape: [2, 2, 4, 6],
    sample: distinct(),
    build: (n) => {
      n.output(n.op('MaxPool', ['h'], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 }));
    },
  },
  {
    name: 'bn 3-D',
    shape: [2, 3, 5],
    build: (n) =>
      n.output(
        n.op('BatchNormalization', [
          'h',
          n.rand([3], 1),
          n.rand([3]),
          n.rand([3]),
          n.rand([3], 0.3, 0.6),
        ]),
      ),
  },
  {
    name: 'conv SAME_UPPER dilation 2 stride 2',
    shape: [2, 2, 7, 7],
    build: (n) =>
      n.output(
        n.op('Conv', ['h', n.rand([2, 2, 3, 3])], {
          auto_pad: 'SAME_UPPER',
          dilations: [2, 2],
          strides: [2, 2],
        }),
      ),
  },
  {
    name: 'cast float->double->float',
    shape: [2, 5],
    build: (n) =>
      n.output(
        n.op(
          'Cast',
          [n.op('Mul', [n.op('Cast', ['h'], { to: 11 }), n.op('Cast', ['h'], { to: 11 })])],
          { to: 1 },
        ),
      ),
  },
  {
    name: 'slice no axes opset 13 (batch whole, INT64-max-like end)',
    opset: 13,
    shape: [2, 4, 5],
    build: (n) => {
      const s = n.op('Slice', ['h', n.ints([0, 1]), n.ints([2 ** 62, 3])]);
      n.output(n.op('Mul', [s, s]));
    },
  },
  {
    name: 'avgpool ceil_mode',
    opset: 17,
    shape: [2, 2, 5, 5],
    build: (n) =>
      n.output(n.op('AveragePool', ['h'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })),
  },
  {
    name: 'maxpool ceil_mode overlapping 3x3/2 on 6x6 (googlenet)',
    opset: 17,
    shape: [2, 2, 6, 6],
    sample: distinct(),
    build: (n) =>
      n.output(n.op('MaxPool', ['h'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 })),
  },
  {
    name: 'softmax opset 11 negative axis',
    opset: 11,
    shape: [2, 2, 3],
    build: (n) => n.output(n.op('Softmax', ['h'], { axis: -1 })),
  },
  {
    name: 'reducemean opset 18 no axes input noop 0 on [N, ...] (all axes incl. batch)',
    opset: 18,
    shape: [2, 3],
    build: (n) =>
      n.output(n.op('Unsqueeze', [n.op('ReduceMean', ['h'], { keepdims: 0 }), n.ints([0])])),
  },
];
it('probe', async () => {
  for (const c of cases) {
    try {
      const r = await checkGradient(c);
      console.log('PROBE', c.name, r.relErr.toExponential(2), r.bad.length);
    } catch (e) {
      console.log('PROBE', c.name, 'THROWS', String(e).slice(0, 250).replace(/\n/g, ' '));
    }
  }
}, 60000);
