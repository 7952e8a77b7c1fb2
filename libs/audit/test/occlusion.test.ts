import { describe, expect, test } from 'vitest';
import {
  binomialTail,
  controlBoxes,
  type ImageTensor,
  occlude,
  type PixelBox,
  signTest,
} from '../src/index.js';

function tensor(layout: 'NCHW' | 'NHWC'): ImageTensor {
  const width = 32;
  const height = 24;
  const channels = 2;
  const data = new Float32Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        // A background of c + 0.01 * x, and a bright 4x4 token at (4..8, 4..8).
        const v = x >= 4 && x < 8 && y >= 4 && y < 8 ? 10 : c + 0.01 * x;
        data[layout === 'NCHW' ? (c * height + y) * width + x : (y * width + x) * channels + c] = v;
      }
  return { data, width, height, channels, layout };
}

describe('occlusion', () => {
  test('fills the box with the median of the ring around it, per channel, in either layout', () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const t = tensor(layout);
      const out = occlude(t, [4, 4, 4, 4]);
      const v = (c: number, x: number, y: number) =>
        out[
          layout === 'NCHW' ? (c * t.height + y) * t.width + x : (y * t.width + x) * t.channels + c
        ];
      for (const c of [0, 1]) {
        // Ring: x in 0..11 (box 4..8 widened by 4): the median background is c + 0.01 * 5.5-ish.
        expect(v(c, 5, 5)).toBeGreaterThan(c);
        expect(v(c, 5, 5)).toBeLessThan(c + 0.12);
        expect(v(c, 20, 20)).toBeCloseTo(c + 0.2, 5); // untouched outside
      }
      expect(t.data.includes(10)).toBe(true); // the input is not modified
    }
  });

  test('controls have the region size, never overlap a candidate, and are reproducible', () => {
    const box: PixelBox = [0, 0, 40, 40];
    const other: PixelBox = [200, 200, 56, 56];
    const pool = [10, 10, 128, 128, 100, 140, 220, 220];
    const a = controlBoxes(box, [box, other], pool, { width: 256, height: 256 }, 5, 'img1:0');
    const b = controlBoxes(box, [box, other], pool, { width: 256, height: 256 }, 5, 'img1:0');
    expect(a).toEqual(b);
    expect(a).toHaveLength(5);
    for (const c of a) {
      expect(c[2]).toBe(40);
      expect(c[3]).toBe(40);
      for (const k of [box, other]) {
        const overlaps =
          c[0] < k[0] + k[2] && k[0] < c[0] + c[2] && c[1] < k[1] + k[3] && k[1] < c[1] + c[3];
        expect(overlaps).toBe(false);
      }
    }
  });
});

describe('sign test', () => {
  test('binomial tails', () => {
    expect(binomialTail(10, 10)).toBeCloseTo(1 / 1024, 10);
    expect(binomialTail(10, 0)).toBe(1);
    expect(binomialTail(5, 3)).toBeCloseTo(0.5, 10);
    expect(binomialTail(20, 15)).toBeCloseTo(0.020694732666015625, 12);
  });

  test('ties are dropped; all-positive differences are significant', () => {
    const r = signTest([0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect([r.n, r.positive]).toEqual([8, 8]);
    expect(r.p).toBeCloseTo(1 / 256, 12);
  });
});
