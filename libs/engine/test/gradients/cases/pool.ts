import type { AttrValue } from '@camflow/onnx';
import { distinct, type GradCase } from '../harness.js';

function maxPool(
  name: string,
  opset: number,
  shape: number[],
  attrs: Record<string, AttrValue>,
): GradCase {
  return {
    name: `MaxPool opset ${opset}: ${name}`,
    opset,
    shape,
    sample: distinct(),
    build: (n) => n.output(n.op('MaxPool', ['h'], attrs)),
  };
}

function averagePool(
  name: string,
  shape: number[],
  attrs: Record<string, AttrValue>,
  opset = 17,
): GradCase {
  return {
    name: `AveragePool opset ${opset}: ${name}`,
    opset,
    shape,
    build: (n) => n.output(n.op('AveragePool', ['h'], attrs)),
  };
}

export const maxPoolCases: GradCase[] = [
  maxPool('2x2/2, non-overlapping', 11, [2, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }),
  maxPool('2x2/2 on odd 5x5 (last row/column unused)', 11, [2, 2, 5, 5], {
    kernel_shape: [2, 2],
    strides: [2, 2],
  }),
  maxPool('2x2/2 ceil_mode on 5x5 (partial windows)', 11, [2, 2, 5, 5], {
    kernel_shape: [2, 2],
    strides: [2, 2],
    ceil_mode: 1,
  }),
  // Opset 9 has no ceil_mode and opset 9/10 no ScatterElements (Scatter instead).
  maxPool('2x2/2', 9, [2, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }),
  maxPool('3x3/3 pads 1', 10, [2, 2, 7, 7], {
    kernel_shape: [3, 3],
    strides: [3, 3],
    pads: [1, 1, 1, 1],
  }),
  maxPool('2x2/2 ceil_mode on 5x5', 10, [2, 2, 5, 5], {
    kernel_shape: [2, 2],
    strides: [2, 2],
    ceil_mode: 1,
  }),
  maxPool('3x3/3 with pads 1, non-overlapping', 13, [2, 2, 7, 7], {
    kernel_shape: [3, 3],
    strides: [3, 3],
    pads: [1, 1, 1, 1],
  }),
  maxPool('3x3/2 pads 1, overlapping (ResNet stem)', 17, [2, 2, 7, 7], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  maxPool('3x3/1 pads 1, heavily overlapping', 16, [2, 2, 5, 5], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  }),
  maxPool('2x2 dilation 2 stride 1 (overlapping)', 18, [2, 2, 6, 6], {
    kernel_shape: [2, 2],
    dilations: [2, 2],
  }),
  maxPool('3x3/2 auto_pad SAME_UPPER on 6x6', 17, [2, 2, 6, 6], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    auto_pad: 'SAME_UPPER',
  }),
  maxPool('1-D, kernel 3, stride 2', 17, [2, 3, 9], { kernel_shape: [3], strides: [2] }),
  // Below opset 16 overlapping windows are placed by the max's offset (no ScatterElements add).
  maxPool('3x3/2 pads 1, overlapping (ResNet stem), by offsets', 13, [2, 2, 7, 7], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  maxPool('3x3/1 pads 1, heavily overlapping, by offsets', 11, [2, 2, 5, 6], {
    kernel_shape: [3, 3],
    strides: [1, 1],
    pads: [1, 1, 1, 1],
  }),
  maxPool('2x3 dilation 2, stride 1, asymmetric pads, by offsets', 12, [2, 1, 6, 7], {
    kernel_shape: [2, 3],
    strides: [1, 1],
    dilations: [2, 2],
    pads: [1, 0, 0, 1],
  }),
  {
    name: 'MaxPool opset 12: the model already uses the Indices output',
    opset: 12,
    shape: [2, 2, 4, 4],
    sample: distinct(),
    build: (n) => {
      const [y] = n.opN('MaxPool', ['h'], 2, { kernel_shape: [2, 2], strides: [2, 2] });
      n.output(y);
    },
  },
];

maxPoolCases.push({
  // Column-major Indices in the model must not be reused for the (row-major) scatter.
  name: 'MaxPool opset 12: the model uses the Indices output with storage_order=1',
  opset: 12,
  shape: [2, 2, 4, 6],
  sample: distinct(),
  build: (n) => {
    const [y, indices] = n.opN('MaxPool', ['h'], 2, {
      kernel_shape: [2, 2],
      strides: [2, 2],
      storage_order: 1,
    });
    // The indices feed another output-side branch, so the model really uses them.
    const used = n.op('Cast', [indices], { to: 1 });
    n.output(n.op('Add', [y, n.op('Mul', [used, n.floats([0], [])])]));
  },
});

export const averagePoolCases: GradCase[] = [
  averagePool('2x2/2, no pads', [2, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }, 11),
  averagePool('3x3/1 pads 1, count_include_pad=0', [2, 2, 5, 5], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  }),
  averagePool('3x3/1 pads 1, count_include_pad=1', [2, 2, 5, 5], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
    count_include_pad: 1,
  }),
  averagePool('3x3/2 pads 1 on odd 7x7, count_include_pad=0', [2, 2, 7, 7], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  }),
  averagePool('3x3/2 pads 1 on even 6x6, count_include_pad=1', [2, 2, 6, 6], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
    count_include_pad: 1,
  }),
  averagePool('asymmetric pads [0, 1, 1, 0], count_include_pad=0', [2, 2, 5, 5], {
    kernel_shape: [2, 3],
    pads: [0, 1, 1, 0],
  }),
  averagePool('3x3/2 auto_pad SAME_UPPER on 6x6', [2, 2, 6, 6], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    auto_pad: 'SAME_UPPER',
  }),
  averagePool('2x2/2 on odd 5x5 (last row/column unused)', [2, 2, 5, 5], {
    kernel_shape: [2, 2],
    strides: [2, 2],
  }),
  averagePool('1-D, kernel 3, stride 2, pads 1', [2, 3, 9], {
    kernel_shape: [3],
    strides: [2],
    pads: [1, 1],
  }),
  averagePool(
    '3x3 dilation 2, pads 2',
    [2, 2, 6, 6],
    { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] },
    19,
  ),
  averagePool(
    '2x2 dilation 2, stride 2, no pads',
    [2, 2, 6, 6],
    { kernel_shape: [2, 2], dilations: [2, 2], strides: [2, 2] },
    19,
  ),
];

export const globalPoolCases: GradCase[] = [
  {
    name: 'GlobalAveragePool',
    shape: [2, 3, 4, 5],
    build: (n) => n.output(n.op('Mul', [n.op('GlobalAveragePool', ['h']), n.floats([1], [])])),
  },
  {
    name: 'GlobalMaxPool',
    shape: [2, 3, 4, 5],
    sample: distinct(),
    build: (n) => n.output(n.op('GlobalMaxPool', ['h'])),
  },
  {
    // Equal takes floats only from opset 11.
    name: 'GlobalMaxPool opset 9',
    opset: 9,
    shape: [2, 3, 4, 5],
    sample: distinct(),
    build: (n) => n.output(n.op('GlobalMaxPool', ['h'])),
  },
];

export const reduceCases: GradCase[] = [
  {
    name: 'ReduceMean opset 13: axes attribute [2, 3], keepdims 1',
    opset: 13,
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('ReduceMean', ['h'], { axes: [2, 3], keepdims: 1 })),
  },
  {
    name: 'ReduceMean opset 11: axes attribute [-1], keepdims 0',
    opset: 11,
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('ReduceMean', ['h'], { axes: [-1], keepdims: 0 })),
  },
  {
    name: 'ReduceMean opset 18: axes input [2, 3], keepdims 0',
    opset: 18,
    shape: [2, 3, 4, 4],
    build: (n) => n.output(n.op('ReduceMean', ['h', n.ints([2, 3])], { keepdims: 0 })),
  },
  {
    name: 'ReduceMean opset 18: axes input [-2], default keepdims',
    opset: 18,
    shape: [2, 3, 4],
    build: (n) => n.output(n.op('ReduceMean', [n.op('Mul', ['h', 'h']), n.ints([-2])])),
  },
  {
    name: 'ReduceSum opset 11: axes attribute [1], keepdims 0',
    opset: 11,
    shape: [2, 3, 4],
    build: (n) =>
      n.output(n.op('ReduceSum', [n.op('Mul', ['h', 'h'])], { axes: [1], keepdims: 0 })),
  },
  {
    name: 'ReduceSum opset 13: axes input [1, 2], keepdims 1',
    opset: 13,
    shape: [2, 3, 4, 2],
    build: (n) => n.output(n.op('ReduceSum', [n.op('Mul', ['h', 'h']), n.ints([1, 2])])),
  },
  {
    // (ORT 1.23 fails on noop_with_empty_axes without an axes input, so it is given, empty.)
    name: 'ReduceSum opset 13: empty axes, noop_with_empty_axes=1 (identity)',
    opset: 13,
    shape: [2, 3, 4],
    build: (n) =>
      n.output(
        n.op('ReduceSum', [n.op('Mul', ['h', 'h']), n.ints([], [0])], { noop_with_empty_axes: 1 }),
      ),
  },
  {
    name: 'ReduceMax opset 13: axes attribute [2, 3], keepdims 0',
    opset: 13,
    shape: [2, 3, 4, 4],
    sample: distinct(),
    build: (n) => n.output(n.op('ReduceMax', ['h'], { axes: [2, 3], keepdims: 0 })),
  },
  {
    name: 'ReduceMax opset 11: axes attribute [1], keepdims 1',
    opset: 11,
    shape: [2, 3, 4],
    sample: distinct(),
    build: (n) => n.output(n.op('ReduceMax', ['h'], { axes: [1] })),
  },
  {
    name: 'ReduceMax opset 10: axes attribute [2], keepdims 0',
    opset: 10,
    shape: [2, 3, 5],
    sample: distinct(),
    build: (n) => n.output(n.op('ReduceMax', ['h'], { axes: [2], keepdims: 0 })),
  },
  {
    name: 'ReduceMax opset 18: axes input [-1], keepdims 0',
    opset: 18,
    shape: [2, 3, 5],
    sample: distinct(),
    build: (n) => n.output(n.op('ReduceMax', ['h', n.ints([-1])], { keepdims: 0 })),
  },
  {
    name: 'ReduceMax opset 18: axes input [1, 3], keepdims 1',
    opset: 18,
    shape: [2, 3, 2, 4],
    sample: distinct(),
    build: (n) => n.output(n.op('ReduceMax', ['h', n.ints([1, 3])], { keepdims: 1 })),
  },
];

export const poolCases = [...maxPoolCases, ...averagePoolCases, ...globalPoolCases, ...reduceCases];
