import type { AttrValue } from '@camflow/onnx';
import type { GradCase, Net } from '../harness.js';

/** h [N, C, ...] -> Conv with random weights [M, C / group, ...kernel] (and a bias). */
function convCase(
  name: string,
  shape: number[],
  out: number,
  kernel: number[],
  attrs: Record<string, AttrValue> = {},
  bias = true,
): GradCase {
  const group = typeof attrs.group === 'number' ? attrs.group : 1;
  return {
    name: `Conv: ${name}`,
    shape,
    build: (n) => {
      const w = n.rand([out, shape[1] / group, ...kernel], 0.5);
      const ins = bias ? ['h', w, n.rand([out])] : ['h', w];
      n.output(n.op('Conv', ins, { kernel_shape: kernel, ...attrs }));
    },
  };
}

export const convCases: GradCase[] = [
  convCase('3x3, pads 1', [2, 2, 5, 5], 3, [3, 3], { pads: [1, 1, 1, 1] }),
  convCase('3x3, no pads, no bias', [2, 2, 5, 5], 3, [3, 3], {}, false),
  convCase('3x3 stride 2, pads 1, even input 6x6', [2, 2, 6, 6], 3, [3, 3], {
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  convCase('3x3 stride 2, pads 1, odd input 7x7', [2, 2, 7, 7], 3, [3, 3], {
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  convCase('2x2 stride 2, even input 6x6', [2, 2, 6, 6], 2, [2, 2], { strides: [2, 2] }),
  convCase('3x3 stride 3 on 8x8 (two rows lost)', [2, 2, 8, 8], 2, [3, 3], { strides: [3, 3] }),
  convCase('asymmetric pads [0, 1, 2, 0]', [2, 2, 5, 5], 3, [3, 3], { pads: [0, 1, 2, 0] }),
  convCase('3x3 dilation 2, pads 2', [2, 2, 6, 6], 2, [3, 3], {
    dilations: [2, 2],
    pads: [2, 2, 2, 2],
  }),
  convCase('3x3 dilation 2, stride 2, odd input', [2, 2, 7, 7], 2, [3, 3], {
    dilations: [2, 2],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  convCase('groups=2 (4 -> 6 channels)', [2, 4, 4, 4], 6, [3, 3], { group: 2, pads: [1, 1, 1, 1] }),
  convCase('depthwise (group = channels = 3)', [2, 3, 5, 5], 3, [3, 3], {
    group: 3,
    pads: [1, 1, 1, 1],
  }),
  convCase('depthwise, channel multiplier 2, stride 2', [2, 3, 6, 6], 6, [3, 3], {
    group: 3,
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  convCase('auto_pad SAME_UPPER, stride 2, even input', [2, 2, 6, 6], 2, [3, 3], {
    auto_pad: 'SAME_UPPER',
    strides: [2, 2],
  }),
  convCase('auto_pad SAME_UPPER, stride 2, odd input', [2, 2, 7, 7], 2, [4, 4], {
    auto_pad: 'SAME_UPPER',
    strides: [2, 2],
  }),
  convCase('auto_pad SAME_LOWER, 4x4 kernel (odd total pad)', [2, 2, 5, 5], 2, [4, 4], {
    auto_pad: 'SAME_LOWER',
  }),
  convCase('auto_pad VALID, stride 2', [2, 2, 7, 7], 2, [3, 3], {
    auto_pad: 'VALID',
    strides: [2, 2],
  }),
  convCase('1x1', [2, 4, 4, 4], 3, [1, 1]),
  convCase('1x1 stride 2, odd input', [2, 3, 5, 5], 2, [1, 1], { strides: [2, 2] }),
  convCase('3x1 kernel, strides [2, 1], pads [1, 0, 1, 0]', [2, 2, 5, 4], 2, [3, 1], {
    strides: [2, 1],
    pads: [1, 0, 1, 0],
  }),
  convCase('1-D, kernel 3, stride 2, pads 1', [2, 3, 9], 2, [3], { strides: [2], pads: [1, 1] }),
  convCase('kernel covering the whole map (a head)', [2, 3, 4, 4], 5, [4, 4]),
];

const attrText = (attrs: Record<string, AttrValue>) =>
  Object.entries(attrs)
    .map(([k, v]) => `, ${k} ${typeof v === 'object' && 'float' in v ? v.float : v}`)
    .join('');

/** Y = Gemm(A, B, C) with the hooked tensor in A (possibly transposed). */
function gemmOnA(
  tA: number,
  tB: number,
  extra: Record<string, AttrValue> = {},
  opset = 17,
): GradCase {
  return {
    name: `Gemm opset ${opset}: A from h, transA=${tA} transB=${tB}${attrText(extra)}`,
    opset,
    shape: [2, 4],
    build: (n) => {
      const a = tA ? n.op('Transpose', [n.op('Tanh', ['h'])], { perm: [1, 0] }) : 'h';
      const b = n.rand(tB ? [3, 4] : [4, 3]);
      n.output(n.op('Gemm', [a, b, n.rand([3])], { transA: tA, transB: tB, ...extra }));
    },
  };
}

/** Y^T = Gemm(A, B) with the hooked tensor in B: the batch is B's column axis. */
function gemmOnB(tA: number, tB: number, opset = 17): GradCase {
  return {
    name: `Gemm opset ${opset}: B from h, transA=${tA} transB=${tB}, alpha 0.7`,
    opset,
    shape: [2, 4],
    build: (n) => {
      const a = n.rand(tA ? [4, 3] : [3, 4]);
      const b = tB
        ? n.op('Tanh', ['h'])
        : n.op('Transpose', [n.op('Tanh', ['h'])], { perm: [1, 0] });
      const y = n.op('Gemm', [a, b, n.rand([3, 1])], {
        transA: tA,
        transB: tB,
        alpha: { float: 0.7 },
      });
      n.output(n.op('Transpose', [y], { perm: [1, 0] }));
    },
  };
}

const head = (n: Net, c: string) => n.output(c);

export const gemmCases: GradCase[] = [
  gemmOnA(0, 0),
  gemmOnA(0, 1),
  gemmOnA(1, 0),
  gemmOnA(1, 1),
  gemmOnA(1, 1, { alpha: { float: 0.6 }, beta: { float: 2 } }),
  gemmOnB(0, 0),
  gemmOnB(0, 1),
  gemmOnB(1, 0),
  gemmOnB(1, 1),
  // Before opset 11 Gemm's C is required, in the model and in the gradient graph alike.
  gemmOnA(0, 1, {}, 9),
  gemmOnA(1, 0, { alpha: { float: 0.5 } }, 10),
  gemmOnB(0, 1, 9),
  gemmOnB(1, 0, 10),
  {
    name: 'Gemm: alpha, beta, C [1, M] broadcast, no C gradient',
    shape: [2, 5],
    build: (n) =>
      head(
        n,
        n.op('Gemm', ['h', n.rand([3, 5]), n.rand([1, 3])], {
          transB: 1,
          alpha: { float: -1.3 },
          beta: { float: 0.4 },
        }),
      ),
  },
  {
    name: 'Gemm: scalar C, no C at all',
    shape: [2, 5],
    build: (n) => {
      const a = n.op('Gemm', ['h', n.rand([5, 3]), n.floats([0.5], [])]);
      head(n, n.op('Gemm', [n.op('Sigmoid', [a]), n.rand([3, 2])]));
    },
  },
  {
    name: 'Gemm: C [N, M] depends on h, beta 0.5 (both A and C carry gradients)',
    shape: [2, 4],
    build: (n) =>
      head(
        n,
        n.op('Gemm', ['h', n.rand([4, 4]), n.op('Mul', ['h', 'h'])], {
          beta: { float: 0.5 },
          alpha: { float: 1.5 },
        }),
      ),
  },
  {
    name: 'Gemm: C [N, 1] depends on h (broadcast over columns)',
    shape: [2, 4],
    build: (n) => {
      const c = n.op('Gemm', ['h', n.rand([4, 1])]);
      head(
        n,
        n.op('Gemm', [n.op('Tanh', ['h']), n.rand([4, 3]), n.op('Mul', [c, c])], {
          beta: { float: -0.7 },
        }),
      );
    },
  },
];

export const matmulCases: GradCase[] = [
  {
    name: 'MatMul 2-D: h [N, K] x W [K, M]',
    shape: [2, 5],
    build: (n) => n.output(n.op('MatMul', ['h', n.rand([5, 3])])),
  },
  {
    name: 'MatMul 3-D x 2-D: h [N, 3, 4] x W [4, 5]',
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('MatMul', ['h', n.rand([4, 5])])),
  },
  {
    name: 'MatMul 2-D x 3-D: W [3, 4] x h [N, 4, 5]',
    shape: [2, 4, 5],
    build: (n) => n.output(n.op('MatMul', [n.rand([3, 4]), 'h'])),
  },
  {
    name: 'MatMul 3-D both from h: h [N, 3, 4] x h^T [N, 4, 3]',
    shape: [2, 3, 4],
    build: (n) =>
      n.output(
        n.op('MatMul', ['h', n.op('Transpose', [n.op('Tanh', ['h'])], { perm: [0, 2, 1] })]),
      ),
  },
  {
    name: 'MatMul 4-D with batch broadcasting: h [N, 2, 3, 4] x f(h) [N, 1, 4, 3]',
    shape: [2, 2, 3, 4],
    opset: 13,
    build: (n) => {
      const m = n.op('ReduceMean', ['h'], { axes: [1], keepdims: 1 });
      const b = n.op('Transpose', [n.op('Sigmoid', [m])], { perm: [0, 1, 3, 2] });
      n.output(n.op('MatMul', ['h', b]));
    },
  },
  {
    name: 'MatMul 4-D: constant [2, 3, 4] x h [N, 1, 4, 5] (B broadcast over axis 1)',
    shape: [2, 1, 4, 5],
    build: (n) => n.output(n.op('MatMul', [n.rand([2, 3, 4]), 'h'])),
  },
  {
    name: 'MatMul 4-D: h [N, 2, 3, 4] x constant [1, 2, 4, 2]',
    shape: [2, 2, 3, 4],
    build: (n) => n.output(n.op('MatMul', ['h', n.rand([1, 2, 4, 2])])),
  },
  {
    name: 'MatMul outer product: [N, 3, 1] x [N, 1, 4], both from h',
    shape: [2, 3, 1],
    build: (n) => {
      const row = n.op('Transpose', [n.op('Tanh', ['h'])], { perm: [0, 2, 1] });
      const wide = n.op('MatMul', [row, n.rand([3, 4])]);
      n.output(n.op('MatMul', ['h', wide]));
    },
  },
];

export const batchNormCases: GradCase[] = [
  {
    name: 'BatchNormalization (inference) on [N, C, H, W], epsilon 1e-3',
    shape: [2, 3, 4, 4],
    opset: 15,
    build: (n) =>
      n.output(
        n.op(
          'BatchNormalization',
          ['h', n.rand([3], 1), n.rand([3]), n.rand([3]), n.rand([3], 0.5, 0.8)],
          { epsilon: { float: 1e-3 } },
        ),
      ),
  },
  {
    name: 'BatchNormalization (inference) on [N, C], opset 9, default epsilon',
    shape: [2, 5],
    opset: 9,
    build: (n) =>
      n.output(
        n.op('BatchNormalization', [
          n.op('Mul', ['h', 'h']),
          n.rand([5], 1),
          n.rand([5]),
          n.rand([5]),
          n.rand([5], 0.05, 0.1),
        ]),
      ),
  },
];

export const linearCases = [...convCases, ...gemmCases, ...matmulCases, ...batchNormCases];
