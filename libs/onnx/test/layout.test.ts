import { camView, type Layout, namedLayout, type Part, reshapeParts } from '@camflow/onnx';
import { describe, expect, test } from 'vitest';

const b: Part = { kind: 'batch' };
const c = (size: number): Part => ({ kind: 'channel', size });
const y = (size: number, inner = 1, total = size): Part => ({
  kind: 'space',
  axis: 'y',
  size,
  inner,
  total,
});
const x = (size: number, inner = 1, total = size): Part => ({
  kind: 'space',
  axis: 'x',
  size,
  inner,
  total,
});
const dim = (size: number, batch = false) => ({ size, batch });

describe('reshapeParts', () => {
  test('flattening space merges rows and columns into one axis, row-major', () => {
    expect(reshapeParts([[b], [c(8)], [y(4)], [x(6)]], [dim(1, true), dim(8), dim(24)])).toEqual([
      [b],
      [c(8)],
      [y(4), x(6)],
    ]);
  });

  test('a window partition splits an axis into digits, and merging them back gives the axis', () => {
    const windows = reshapeParts(
      [[b], [y(8)], [x(8)], [c(3)]],
      [dim(1, true), dim(2), dim(4), dim(2), dim(4), dim(3)],
    ) as Layout;
    expect(windows[1]).toEqual([y(2, 4, 8)]);
    expect(windows[2]).toEqual([y(4, 1, 8)]);
    expect(reshapeParts(windows, [dim(1, true), dim(8), dim(8), dim(3)])).toEqual([
      [b],
      [y(8)],
      [x(8)],
      [c(3)],
    ]);
  });

  test('torch attention: [T, N, E] -> [T, N*h, d] merges the batch with heads, and back', () => {
    const heads = reshapeParts(
      [[y(2), x(2)], [b], [c(6)]],
      [dim(4), dim(2, true), dim(3)],
    ) as Layout;
    expect(heads).toEqual([[y(2), x(2)], [b, c(2)], [c(3)]]);
    expect(reshapeParts(heads, [dim(4), dim(1, true), dim(6)])).toEqual([
      [y(2), x(2)],
      [b],
      [c(6)],
    ]);
  });

  test('sizes that do not line up give undefined', () => {
    expect(reshapeParts([[b], [y(3)], [x(5)]], [dim(1, true), dim(5), dim(3)])).toBeUndefined();
  });
});

describe('camView', () => {
  test('NCHW needs nothing, NHWC one transpose, a split channel axis a merge', () => {
    expect(camView([[b], [c(4)], [y(3)], [x(5)]], [-1, 4, 3, 5])).toMatchObject({
      layout: 'nchw',
      merge: false,
    });
    expect(camView([[b], [y(3)], [x(5)], [c(4)]], [-1, 3, 5, 4])).toMatchObject({
      layout: 'nhwc',
      perm: [0, 3, 1, 2],
    });
    expect(camView([[b], [c(2)], [y(2), x(3)], [c(4)]], [-1, 2, 6, 4])).toMatchObject({
      layout: 'general',
      split: [-1, 2, 2, 3, 4],
      perm: [0, 1, 4, 2, 3],
      channels: 8,
      merge: true,
    });
  });

  test('tokens: crop the extra tokens, split the grid', () => {
    const t: Part = { kind: 'tokens', size: 13, prefix: 1, suffix: 0, grid: [y(3), x(4)] };
    expect(camView([[b], [t], [c(8)]], [-1, 13, 8])).toMatchObject({
      layout: 'tokens',
      crop: { axis: 1, start: 1, end: 13 },
      height: 3,
      width: 4,
    });
  });

  test('refusals say why', () => {
    expect(() =>
      camView([[b, y(2, 4, 8), x(2, 4, 8)], [y(4, 1, 8), x(4, 1, 8)], [c(3)]], [-1, 16, 3]),
    ).toThrow(/batch axis mixes/);
    expect(() =>
      camView([[b], [{ kind: 'unknown', size: 5 }], [y(3)], [x(5)]], [-1, 5, 3, 5]),
    ).toThrow(/does not say/);
    expect(() => camView([[b], [y(2), x(2)], [y(2), x(2)]], [-1, 4, 4])).toThrow(/more than once/);
    expect(() => camView([[b], [c(8)]], [-1, 8])).toThrow(/no row axis/);
  });
});

describe('namedLayout tokens', () => {
  test('the smallest prefix that leaves a grid with the input aspect ratio', () => {
    const l = namedLayout('tokens', [dim(1, true), dim(197), dim(8)]);
    expect(l[1][0]).toMatchObject({ kind: 'tokens', prefix: 1, grid: [y(14), x(14)] });
    const wide = namedLayout('tokens', [dim(1, true), dim(29), dim(8)], undefined, 4 / 7);
    expect(wide[1][0]).toMatchObject({ prefix: 1, grid: [y(4), x(7)] });
    expect(() => namedLayout('tokens', [dim(1, true), dim(8), dim(3), dim(3)])).toThrow(/3-D/);
  });
});
