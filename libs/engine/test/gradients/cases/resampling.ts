import type { AttrValue } from '@camflow/onnx';
import { type GradCase, type Net, uniform } from '../harness.js';

/** Resize by scales (opset 11+: X, roi, scales), times a random map so every pixel counts. */
function resize(
  name: string,
  shape: number[],
  scales: number[],
  attrs: Record<string, AttrValue>,
  outHW: number[],
  opset = 13,
): GradCase {
  return {
    name: `Resize opset ${opset}: ${name}`,
    opset,
    shape,
    sample: uniform(-1, 1),
    build: (n) => {
      const y = n.op('Resize', ['h', '', n.floats(scales)], attrs);
      n.output(n.op('Mul', [y, n.rand([shape[1], ...outHW])]));
    },
  };
}

/** cout: output channels per group (the weights are [C_in, C_out / group, k, k]). */
const convT = (
  n: Net,
  x: string,
  cin: number,
  cout: number,
  k: number,
  attrs: Record<string, AttrValue>,
) => {
  const groups = typeof attrs.group === 'number' ? attrs.group : 1;
  return n.op(
    'ConvTranspose',
    [x, n.rand([cin, cout, k, k], 0.5), n.rand([cout * groups], 0.1)],
    attrs,
  );
};

export const resampleCases: GradCase[] = [
  resize(
    'linear, half_pixel, x2 (F.interpolate bilinear)',
    [2, 2, 3, 4],
    [1, 1, 2, 2],
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    [6, 8],
  ),
  resize(
    'nearest, asymmetric, floor, x2 (torch nearest)',
    [2, 2, 3, 3],
    [1, 1, 2, 2],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    [6, 6],
  ),
  resize(
    'nearest round_prefer_ceil, x1.5',
    [2, 1, 4, 4],
    [1, 1, 1.5, 1.5],
    { mode: 'nearest', nearest_mode: 'round_prefer_ceil' },
    [6, 6],
  ),
  resize(
    'cubic, align_corners, a=-0.75, x2 by 1.75',
    [2, 1, 4, 4],
    [1, 1, 2, 1.75],
    {
      mode: 'cubic',
      coordinate_transformation_mode: 'align_corners',
      cubic_coeff_a: { float: -0.75 },
    },
    [8, 7],
  ),
  resize(
    'linear, pytorch_half_pixel, downsampling 6 -> 3',
    [2, 2, 6, 6],
    [1, 1, 0.5, 0.5],
    { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
    [3, 3],
  ),
  resize(
    'linear with antialias, downsampling 6 -> 4',
    [2, 1, 6, 6],
    [1, 1, 2 / 3, 2 / 3],
    { mode: 'linear', antialias: 1 },
    [4, 4],
    18,
  ),
  resize(
    'cubic, exclude_outside, axes [2, 3]',
    [2, 1, 3, 4],
    [2, 2],
    { mode: 'cubic', exclude_outside: 1, axes: [2, 3] },
    [6, 8],
    18,
  ),
  {
    name: 'Resize opset 18: by sizes 3x4 -> 5x7 on axes [2, 3] (F.interpolate(size=...))',
    opset: 18,
    shape: [2, 2, 3, 4],
    sample: uniform(-1, 1),
    build: (n) => {
      const y = n.op('Resize', ['h', '', '', n.ints([5, 7])], { mode: 'linear', axes: [2, 3] });
      n.output(n.op('Mul', [y, n.rand([2, 5, 7])]));
    },
  },
  {
    name: 'Resize opset 10 (X, scales), nearest x2',
    opset: 10,
    shape: [2, 2, 2, 3],
    build: (n) =>
      n.output(n.op('Mul', [n.op('Resize', ['h', n.floats([1, 1, 2, 2])]), n.rand([2, 4, 6])])),
  },
  {
    name: 'Upsample opset 9, linear x2',
    opset: 9,
    shape: [2, 2, 2, 3],
    build: (n) =>
      n.output(
        n.op('Mul', [
          n.op('Upsample', ['h', n.floats([1, 1, 2, 2])], { mode: 'linear' }),
          n.rand([2, 4, 6]),
        ]),
      ),
  },
  {
    name: 'ConvTranspose 2x2 stride 2 (U-Net up-convolution)',
    shape: [2, 3, 3, 3],
    build: (n) => n.output(n.op('Tanh', [convT(n, 'h', 3, 2, 2, { strides: [2, 2] })])),
  },
  {
    name: 'ConvTranspose 3x3 stride 2 pads 1 output_padding 1',
    shape: [2, 2, 3, 4],
    build: (n) =>
      n.output(
        n.op('Tanh', [
          convT(n, 'h', 2, 3, 3, { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
        ]),
      ),
  },
  {
    name: 'ConvTranspose groups 2, dilation 2',
    shape: [2, 4, 3, 3],
    build: (n) => n.output(n.op('Tanh', [convT(n, 'h', 4, 1, 3, { group: 2, dilations: [2, 2] })])),
  },
  {
    name: 'ConvTranspose auto_pad SAME_UPPER stride 2, kernel 3',
    shape: [2, 2, 3, 3],
    build: (n) =>
      n.output(n.op('Tanh', [convT(n, 'h', 2, 2, 3, { strides: [2, 2], auto_pad: 'SAME_UPPER' })])),
  },
  {
    name: 'ConvTranspose output_shape 7x5, stride 2, kernel 3',
    shape: [2, 2, 3, 3],
    build: (n) =>
      n.output(n.op('Tanh', [convT(n, 'h', 2, 2, 3, { strides: [2, 2], output_shape: [7, 5] })])),
  },
];
