import { awayFromZero, type GradCase, type Net, uniform } from '../harness.js';

/** GlobalAveragePool as a per-image [N, C, 1, 1] tensor that depends on h. */
const gap = (n: Net, t = 'h') => n.op('GlobalAveragePool', [t]);

/** h [N, 3] -> a [3, N]: a tensor of lower rank than the output, batch axis last. */
function rankBroadcast(op: string): GradCase {
  return {
    name: `${op} with an extra leading broadcast axis on an operand that depends on h`,
    shape: [2, 3],
    build: (n) => {
      const a = n.op('Transpose', ['h'], { perm: [1, 0] });
      const big = n.op('Mul', [n.op('Unsqueeze', [a, n.ints([0])]), n.rand([2, 1, 1], 1, 1.5)]);
      const y = n.op(op, [big, n.op('Sigmoid', [a])]);
      n.output(n.op('Transpose', [y], { perm: [2, 0, 1] }));
    },
  };
}

export const elementwiseCases: GradCase[] = [
  {
    name: 'Add: h + constant bias [C, 1, 1]',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Add', ['h', n.rand([3, 1, 1])])),
  },
  {
    name: 'Add: h [N,C,H,W] + GAP(h) [N,C,1,1], both from h',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Add', ['h', n.op('Mul', [gap(n), gap(n)])])),
  },
  {
    name: 'Add: GAP(h) [N,C,1,1] + h^2 (the smaller operand first)',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Add', [n.op('Exp', [gap(n)]), n.op('Mul', ['h', 'h'])])),
  },
  rankBroadcast('Add'),
  {
    name: 'Sub: h - Sigmoid(GAP(h))',
    shape: [2, 3, 4, 4],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Sub', ['h', n.op('Sigmoid', [gap(n)])]), n.rand([3, 4, 4])])),
  },
  {
    name: 'Sub: Exp(GAP(h)) - h^2 (the smaller operand first)',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Sub', [n.op('Exp', [gap(n)]), n.op('Mul', ['h', 'h'])])),
  },
  {
    name: 'Sub: constant [4] - h',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Sub', [n.rand([4]), n.op('Tanh', ['h'])])),
  },
  rankBroadcast('Sub'),
  {
    name: 'Mul: swish h * sigmoid(h)',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Mul', ['h', n.op('Sigmoid', ['h'])])),
  },
  {
    name: 'Mul: SE block h [N,C,H,W] * sigmoid(GAP(h)) [N,C,1,1]',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Mul', ['h', n.op('Sigmoid', [gap(n)])])),
  },
  {
    name: 'Mul: [N,C,1,1] * [N,C,H,W] (the broadcast operand first)',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Tanh', [gap(n)]), n.op('Sigmoid', ['h'])])),
  },
  {
    name: 'Mul: h * h and a constant [1, 1, W]',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Mul', ['h', 'h']), n.rand([1, 1, 4])])),
  },
  rankBroadcast('Mul'),
  {
    name: 'Div: h / constant [W]',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Div', ['h', n.rand([4], 0.5, 1.5)])),
  },
  {
    name: 'Div: h [N,C,H,W] / (1 + exp(GAP(h))) [N,C,1,1]',
    shape: [2, 3, 4, 4],
    build: (n) =>
      n.output(n.op('Div', ['h', n.op('Add', [n.floats([1], []), n.op('Exp', [gap(n)])])])),
  },
  {
    name: 'Div: GAP(h) [N,C,1,1] / (0.5 + sigmoid(h)) [N,C,H,W]',
    shape: [2, 3, 4, 4],
    build: (n) =>
      n.output(n.op('Div', [gap(n), n.op('Add', [n.op('Sigmoid', ['h']), n.floats([0.5], [])])])),
  },
  {
    name: 'Div: constant / h',
    shape: [2, 3, 4],
    sample: awayFromZero(0.5, 2),
    build: (n) => n.output(n.op('Div', [n.rand([3, 1]), 'h'])),
  },
  rankBroadcast('Div'),
  {
    name: 'Sum: h + sigmoid(h) + constant [W]',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Sum', ['h', n.op('Sigmoid', ['h']), n.rand([4])])),
  },
  {
    name: 'Sum: h^2 + GAP(h) (broadcast operand), two inputs',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Sum', [n.op('Mul', ['h', 'h']), n.op('Exp', [gap(n)])])),
  },
  {
    name: 'Sum: one input',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Sum', [n.op('Mul', ['h', 'h'])])),
  },
  {
    name: 'Neg',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Neg', [n.op('Mul', ['h', 'h'])])),
  },
  {
    name: 'Exp',
    shape: [2, 3, 4],
    sample: uniform(-1.5, 1.5),
    build: (n) => n.output(n.op('Exp', ['h'])),
  },
  {
    name: 'Log',
    shape: [2, 3, 4],
    sample: uniform(0.5, 3),
    build: (n) => n.output(n.op('Log', ['h'])),
  },
  {
    name: 'Sqrt',
    shape: [2, 3, 4],
    sample: uniform(0.3, 3),
    build: (n) => n.output(n.op('Sqrt', ['h'])),
  },
  {
    name: 'Reciprocal',
    shape: [2, 3, 4],
    sample: awayFromZero(0.5, 2),
    build: (n) => n.output(n.op('Reciprocal', ['h'])),
  },
  {
    name: 'Abs',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Abs', ['h']), n.op('Sigmoid', ['h'])])),
  },
  {
    name: 'Erf (GELU-style x * erf(x))',
    shape: [2, 3, 4],
    sample: uniform(-2, 2),
    build: (n) => n.output(n.op('Mul', ['h', n.op('Erf', ['h'])])),
  },
  {
    name: 'Pow: h^2 (scalar exponent)',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Pow', ['h', n.floats([2], [])])),
  },
  {
    name: 'Pow: h^3 (exponent [1])',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Pow', ['h', n.floats([3], [1])])),
  },
  {
    name: 'Pow: h^0.5 on positive h',
    shape: [2, 3, 4],
    sample: uniform(0.3, 3),
    build: (n) => n.output(n.op('Pow', ['h', n.floats([0.5], [])])),
  },
  {
    name: 'Pow: per-column exponents [W] broadcast over h',
    shape: [2, 3, 4],
    sample: uniform(0.3, 2),
    build: (n) => n.output(n.op('Pow', ['h', n.floats([1, 2, 0.5, -1], [4])])),
  },
  {
    name: 'Pow: base sigmoid(GAP(h)) [N,C,1,1] broadcast against exponents [H, W]',
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('Pow', [n.op('Sigmoid', [gap(n)]), n.rand([4, 4], 1, 1.5)])),
  },
  {
    name: 'Sub: h - scalar, times h',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Mul', [n.op('Sub', ['h', n.floats([1], [])]), 'h'])),
  },
];
