import { describe, expect, test } from 'vitest';
import { camInFrame, camPeak, compactCam, expandCam } from '../src/index.js';
import { camAt } from './helpers.js';

describe('compact CAMs', () => {
  test('quantise to bytes relative to the maximum and come back within 1/510', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => (i - 3) * 0.37);
    const c = compactCam({ data, width: 4, height: 3 }, { width: 64, height: 48 });
    const back = expandCam(c);
    const max = Math.max(...data);
    for (let i = 0; i < 12; i++) expect(back.data[i]).toBeCloseTo(Math.max(0, data[i]) / max, 2);
    expect(Buffer.from(c.data, 'base64')).toHaveLength(12);
    expect(c.input).toEqual({ width: 64, height: 48 });
  });

  test('an all-zero (or negative) map stays empty', () => {
    const c = compactCam(
      { data: new Float32Array(4).fill(-1), width: 2, height: 2 },
      { width: 8, height: 8 },
    );
    expect(camInFrame(c).empty).toBe(true);
  });

  test('lays the map in the input frame on its cell grid: the peak is the hot cell centre', () => {
    // Cell (12, 3) of a grid with origin 8, stride 16: centred on pixel (200, 56).
    const f = camInFrame(camAt(12, 3), 64);
    expect(f.empty).toBe(false);
    expect(Math.abs(f.peak[0] - 200.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(f.peak[1] - 56.5)).toBeLessThanOrEqual(1);
    expect(f.cell).toEqual([16, 16]);
    // The atlas cell holding the peak is the hottest.
    let best = 0;
    for (let i = 1; i < f.heat.length; i++) if (f.heat[i] > f.heat[best]) best = i;
    expect([best % 64, Math.floor(best / 64)]).toEqual([50, 14]);
  });
});

describe('camPeak', () => {
  test('the hottest cell centre on the grid, without resampling', () => {
    expect(camPeak(camAt(12, 3))).toEqual([200, 56]);
  });
});
