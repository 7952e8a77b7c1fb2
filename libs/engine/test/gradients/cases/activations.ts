import { avoiding, awayFromZero, type GradCase, uniform } from '../harness.js';

function softmaxCases(op: 'Softmax' | 'LogSoftmax'): GradCase[] {
  return [
    {
      name: `${op} opset 11, axis=1 on 2-D`,
      opset: 11,
      shape: [2, 7],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'], { axis: 1 })),
    },
    {
      name: `${op} opset 11, default axis (1) on 4-D: normalised over C*H*W`,
      opset: 11,
      shape: [2, 2, 3, 3],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'])),
    },
    {
      name: `${op} opset 11, axis=2 on 4-D: normalised over H*W`,
      opset: 11,
      shape: [2, 2, 3, 3],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'], { axis: 2 })),
    },
    {
      name: `${op} opset 13, axis=-1 on 4-D`,
      opset: 13,
      shape: [2, 2, 3, 4],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'], { axis: -1 })),
    },
    {
      name: `${op} opset 13, axis=1 on 4-D`,
      opset: 13,
      shape: [2, 3, 3, 3],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'], { axis: 1 })),
    },
    {
      name: `${op} opset 13, default axis on 2-D`,
      opset: 13,
      shape: [2, 6],
      sample: uniform(-2, 2),
      build: (n) => n.output(n.op(op, ['h'])),
    },
  ];
}

export const activationCases: GradCase[] = [
  {
    name: 'Relu',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Relu', ['h'])),
  },
  {
    name: 'LeakyRelu alpha=0.1',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('LeakyRelu', ['h'], { alpha: { float: 0.1 } })),
  },
  {
    name: 'LeakyRelu default alpha',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('LeakyRelu', ['h'])),
  },
  {
    name: 'Clip opset 13, min and max inputs (ReLU6-like)',
    opset: 13,
    shape: [2, 3, 4, 4],
    sample: avoiding(-1.5, 1.5, [-0.5, 0.6]),
    build: (n) => n.output(n.op('Clip', ['h', n.floats([-0.5], []), n.floats([0.6], [])])),
  },
  {
    name: 'Clip opset 11, min and max from Constant nodes',
    opset: 11,
    shape: [2, 3, 4],
    sample: avoiding(-1.5, 1.5, [0, 0.7]),
    build: (n) => n.output(n.op('Clip', ['h', n.constant([0], []), n.constant([0.7], [])])),
  },
  {
    name: 'Clip opset 13, min only (max missing)',
    opset: 13,
    shape: [2, 3, 4],
    sample: avoiding(-1.5, 1.5, [-0.3]),
    build: (n) => n.output(n.op('Clip', ['h', n.floats([-0.3], [])])),
  },
  {
    name: 'Clip opset 13, max only (min given as empty name)',
    opset: 13,
    shape: [2, 3, 4],
    sample: avoiding(-1.5, 1.5, [0.4]),
    build: (n) => n.output(n.op('Clip', ['h', '', n.floats([0.4], [])])),
  },
  {
    name: 'Clip opset 12, no bounds',
    opset: 12,
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Clip', ['h']), 'h'])),
  },
  {
    name: 'Clip opset 9, min/max attributes',
    opset: 9,
    shape: [2, 3, 4],
    sample: avoiding(-1.5, 1.5, [-0.2, 0.5]),
    build: (n) => n.output(n.op('Clip', ['h'], { min: { float: -0.2 }, max: { float: 0.5 } })),
  },
  {
    name: 'Clip opset 10, max attribute only',
    opset: 10,
    shape: [2, 3, 4],
    sample: avoiding(-1.5, 1.5, [0.5]),
    build: (n) => n.output(n.op('Clip', ['h'], { max: { float: 0.5 } })),
  },
  {
    name: 'Sigmoid',
    shape: [2, 3, 4, 4],
    sample: uniform(-3, 3),
    build: (n) => n.output(n.op('Sigmoid', ['h'])),
  },
  {
    name: 'Tanh',
    shape: [2, 3, 4, 4],
    sample: uniform(-2, 2),
    build: (n) => n.output(n.op('Tanh', ['h'])),
  },
  ...softmaxCases('Softmax'),
  ...softmaxCases('LogSoftmax'),
  {
    name: 'HardSigmoid default alpha/beta (0.2, 0.5)',
    shape: [2, 3, 4, 4],
    // the linear part is -2.5 < x < 2.5
    sample: avoiding(-4, 4, [-2.5, 2.5]),
    build: (n) => n.output(n.op('HardSigmoid', ['h'])),
  },
  {
    name: 'HardSigmoid alpha=1/6 beta=0.5 (as in hard-swish exports)',
    shape: [2, 3, 4],
    sample: avoiding(-5, 5, [-3, 3]),
    build: (n) =>
      n.output(
        n.op('Mul', [
          'h',
          n.op('HardSigmoid', ['h'], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }),
        ]),
      ),
  },
  {
    name: 'HardSwish opset 14',
    opset: 14,
    shape: [2, 3, 4, 4],
    sample: avoiding(-5, 5, [-3, 3]),
    build: (n) => n.output(n.op('HardSwish', ['h'])),
  },
  {
    name: 'Elu default alpha',
    shape: [2, 3, 4, 4],
    sample: awayFromZero(0.05, 2),
    build: (n) => n.output(n.op('Elu', ['h'])),
  },
  {
    name: 'Elu alpha=0.5',
    shape: [2, 3, 4],
    sample: awayFromZero(0.05, 2),
    build: (n) => n.output(n.op('Elu', ['h'], { alpha: { float: 0.5 } })),
  },
  {
    name: 'Gelu opset 20, exact (erf)',
    opset: 20,
    shape: [2, 3, 4],
    sample: uniform(-3, 3),
    build: (n) => n.output(n.op('Gelu', ['h'])),
  },
  {
    name: 'Gelu opset 20, tanh approximation',
    opset: 20,
    shape: [2, 3, 4],
    sample: uniform(-3, 3),
    build: (n) => n.output(n.op('Gelu', ['h'], { approximate: 'tanh' })),
  },
  {
    name: 'Softplus',
    shape: [2, 3, 4],
    sample: uniform(-4, 4),
    build: (n) => n.output(n.op('Softplus', ['h'])),
  },
  {
    name: 'Mish opset 18',
    opset: 18,
    shape: [2, 3, 4],
    sample: uniform(-4, 4),
    build: (n) => n.output(n.op('Mish', ['h'])),
  },
  {
    name: 'PRelu, slope per channel [C, 1, 1] (torch nn.PReLU(C))',
    shape: [2, 3, 2, 2],
    build: (n) => n.output(n.op('PRelu', ['h', n.rand([3, 1, 1], 0.3, 0.1)])),
  },
  {
    name: 'PRelu, one slope',
    shape: [2, 5],
    build: (n) => n.output(n.op('PRelu', ['h', n.floats([0.25])])),
  },
];
