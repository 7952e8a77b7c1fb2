import type { GradCase } from '../harness.js';

export const einsumCases: GradCase[] = [
  {
    name: 'Einsum attention scores bhid,bhjd->bhij (both operands from h), softmax',
    shape: [2, 2, 3, 4],
    build: (n) => {
      const k = n.op('Mul', ['h', n.rand([4])]);
      const s = n.op('Einsum', ['h', k], { equation: 'bhid,bhjd->bhij' });
      n.output(n.op('Mul', [n.op('Softmax', [s], { axis: -1 }), n.rand([2, 3, 3])]));
    },
  },
  {
    name: 'Einsum attention output bij,bjd->bid',
    shape: [2, 3, 3],
    build: (n) => {
      const attn = n.op('Softmax', ['h'], { axis: -1 });
      n.output(n.op('Einsum', [attn, n.op('Tanh', ['h'])], { equation: 'bij,bjd->bid' }));
    },
  },
  {
    name: 'Einsum linear ...c,dc->...d (ellipsis) with a weight',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('Einsum', ['h', n.rand([5, 4])], { equation: '...c,dc->...d' })),
  },
  {
    name: 'Einsum implicit output bc,cd (= bd), and a sum-only letter bij->bi',
    shape: [2, 3, 4],
    build: (n) => {
      const sum = n.op('Einsum', ['h'], { equation: 'bij->bi' });
      const lin = n.op('Einsum', [sum, n.rand([3, 2])], { equation: 'bc,cd' });
      n.output(n.op('Tanh', [lin]));
    },
  },
];
