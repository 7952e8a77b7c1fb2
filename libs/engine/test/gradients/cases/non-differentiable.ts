import { avoiding, distinct, type GradCase } from '../harness.js';

/** Jumps of Floor(3x), Ceil(2x) and Round(3x) in [-1, 1], for samples to stay away from. */
const steps = Array.from({ length: 13 }, (_, i) => (i - 6) / 6);

/**
 * Ops whose outputs carry no gradient, on the way from h to y: the backward pass must stop at
 * them (and not refuse the model) and still match finite differences through the other paths.
 */
export const nonDifferentiableCases: GradCase[] = [
  {
    name: 'shape arithmetic from h: Shape, Size, ConstantOfShape, Range feed a Reshape and an Add',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) => {
      const shape = n.op('Shape', ['h']);
      const flat = n.op('Reshape', [
        n.op('Mul', ['h', 'h']),
        n.op('Concat', [n.op('Slice', [shape, n.ints([0]), n.ints([1])]), n.ints([-1])], {
          axis: 0,
        }),
      ]);
      const width = n.op(
        'Cast',
        [n.op('Gather', [n.op('Shape', [flat]), n.ints([1], [])], { axis: 0 })],
        { to: 1 },
      );
      const ramp = n.op('Range', [n.floats([0], []), width, n.floats([1], [])]);
      // The size of one image (the whole batch's would differ between the harness's runs).
      const one = n.op('Slice', ['h', n.ints([0]), n.ints([1]), n.ints([0])]);
      const size = n.op('Cast', [n.op('Size', [one])], { to: 1 });
      const ones = n.op('ConstantOfShape', [n.op('Shape', [flat])]);
      const scaled = n.op('Mul', [
        flat,
        n.op('Div', [n.op('Add', [n.op('Cast', [ones], { to: 1 }), n.floats([1], [])]), size]),
      ]);
      n.output(n.op('Add', [scaled, ramp]));
    },
  },
  {
    name: 'comparisons and logic from h select branches: Equal, Less, LessOrEqual, Greater, GreaterOrEqual, Not, And, Or, Xor',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) => {
      const z = n.floats([0], []);
      const pos = n.op('Greater', ['h', z]);
      const big = n.op('GreaterOrEqual', ['h', n.floats([0.5], [])]);
      const neg = n.op('Less', ['h', z]);
      const small = n.op('LessOrEqual', ['h', n.floats([-0.5], [])]);
      const odd = n.op('Xor', [n.op('Or', [big, small]), n.op('And', [pos, n.op('Not', [neg])])]);
      const never = n.op('Equal', ['h', n.floats([7], [])]);
      const cond = n.op('Or', [odd, never]);
      n.output(n.op('Where', [cond, n.op('Mul', ['h', 'h']), n.op('Sigmoid', ['h'])]));
    },
  },
  {
    name: 'piecewise constant maths: h * Floor(3h) + Ceil(2h) + Round(3h) * h + Sign(h)',
    shape: [2, 3, 4],
    sample: avoiding(-1, 1, steps, 0.02),
    build: (n) => {
      const t3 = n.op('Mul', ['h', n.floats([3], [])]);
      const a = n.op('Mul', ['h', n.op('Floor', [t3])]);
      const b = n.op('Ceil', [n.op('Mul', ['h', n.floats([2], [])])]);
      const c = n.op('Mul', [n.op('Round', [t3]), 'h']);
      n.output(n.op('Sum', [a, b, c, n.op('Sign', ['h'])]));
    },
  },
  {
    name: 'indices and tests from h: ArgMax, ArgMin, NonZero, IsNaN, IsInf',
    opset: 13,
    shape: [2, 3, 4],
    sample: distinct(),
    build: (n) => {
      const amax = n.op('Cast', [n.op('ArgMax', ['h'], { axis: 2, keepdims: 1 })], { to: 1 });
      const amin = n.op('Cast', [n.op('ArgMin', ['h'], { axis: 2, keepdims: 1 })], { to: 1 });
      const count = n.op(
        'Cast',
        [n.op('Shape', [n.op('NonZero', [n.op('Greater', ['h', n.floats([0], [])])])])],
        { to: 1 },
      );
      const safe = n.op('Where', [
        n.op('Or', [n.op('IsNaN', ['h']), n.op('IsInf', ['h'])]),
        n.floats([0], []),
        'h',
      ]);
      const weight = n.op('Add', [amax, n.op('Mul', [amin, n.floats([0.5], [])])]);
      n.output(
        n.op('Add', [
          n.op('Mul', [safe, weight]),
          n.op('Mul', [n.op('ReduceSum', [count], { keepdims: 0 }), n.floats([0.01], [])]),
        ]),
      );
    },
  },
];
