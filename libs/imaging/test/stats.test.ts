import { describe, expect, it } from 'vitest';
import { camToOriginal, type Heatmap } from '../src/cammap.js';
import { seedCard } from '../src/card.js';
import { ImageDecodeError } from '../src/errors.js';
import { computeGeometry } from '../src/geometry.js';
import {
  type CamStats,
  type CamStatsOptions,
  camStats,
  decodeMask,
  statsRows,
} from '../src/stats.js';
import { encodePng, noise } from './helpers/pixels.js';
import { expectSameStats } from './helpers/stats.js';

/** The statistics accumulated row by row, as renderExplanation streams them. */
async function streamed(heat: Heatmap, options: CamStatsOptions = {}): Promise<CamStats> {
  const acc = await statsRows(heat, options);
  const w = heat.width;
  for (let y = 0; y < heat.height; y++) acc.row(y, heat.data.subarray(y * w, (y + 1) * w));
  return acc.result();
}

const map = (width: number, height: number, f: (x: number, y: number) => number): Heatmap => {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
};

describe('camStats', () => {
  it('one hot pixel: its position, zero entropy, no border energy', async () => {
    const stats = await camStats(map(100, 50, (x, y) => (x === 30 && y === 10 ? 0.8 : 0)));
    expect(stats.peak).toEqual({ x: 0.305, y: 0.21, value: Math.fround(0.8) });
    expect(stats.entropy).toBe(0);
    expect(stats.normalizedEntropy).toBe(0);
    expect(stats.borderEnergy).toBe(0);
    expect(stats.maskEnergy).toBeUndefined();
  });

  it('a uniform map: maximal entropy and border energy equal to the border area', async () => {
    const stats = await camStats(map(100, 50, () => 0.5));
    expect(stats.entropy).toBeCloseTo(Math.log2(5000), 9);
    expect(stats.normalizedEntropy).toBeCloseTo(1, 9);
    // 10% bands: 10 columns and 5 rows on each side; the interior is 80 x 40.
    expect(stats.borderArea).toBe(1 - 3200 / 5000);
    expect(stats.borderEnergy).toBeCloseTo(0.36, 9);
    expect(stats.peak).toEqual({ x: 0.005, y: 0.01, value: 0.5 }); // first maximum
  });

  it('two equal spots carry one bit; a corner spot is all border energy', async () => {
    const two = await camStats(map(10, 10, (x, y) => ((x === 2 || x === 7) && y === 5 ? 1 : 0)));
    expect(two.entropy).toBeCloseTo(1, 12);
    const corner = await camStats(map(100, 100, (x, y) => (x < 5 && y < 5 ? 1 : 0)));
    expect(corner.borderEnergy).toBe(1);
    const narrow = await camStats(
      map(100, 100, (x, y) => (x < 5 && y < 5 ? 1 : 0)),
      { border: 0.02 },
    );
    expect(narrow.borderEnergy).toBeCloseTo(16 / 25, 12); // only the 2-pixel band of the 5x5 spot
  });

  it('measures energy inside a mask given as raw bytes, a Mask, or a PNG', async () => {
    const heat = map(20, 10, (x) => (x < 10 ? 3 : 1)); // left half holds 3/4 of the energy
    const left = new Uint8Array(200).map((_, i) => (i % 20 < 10 ? 1 : 0));
    const expected = { maskEnergy: 0.75, maskArea: 0.5, peakInMask: true };
    expect(await camStats(heat, { mask: left })).toMatchObject(expected);
    expect(await camStats(heat, { mask: { width: 20, height: 10, data: left } })).toMatchObject(
      expected,
    );
    const pngMask = encodePng(
      20,
      10,
      0,
      8,
      Array.from(left, (v) => v * 255),
    );
    expect(await camStats(heat, { mask: pngMask })).toMatchObject(expected);
    // A mask made at another resolution is scaled to the heatmap (nearest).
    const small = encodePng(4, 2, 0, 8, [255, 255, 0, 0, 255, 255, 0, 0]);
    expect(await camStats(heat, { mask: small })).toMatchObject(expected);
    const right = left.map((v) => 1 - v);
    expect(await camStats(heat, { mask: right })).toMatchObject({
      maskEnergy: 0.25,
      peakInMask: false,
    });
  });

  it('decodeMask thresholds at 128 on any channel', async () => {
    const mask = await decodeMask(
      encodePng(4, 1, 2, 8, [0, 0, 0, 127, 127, 127, 0, 200, 0, 255, 255, 255]),
    );
    expect(Array.from(mask.data)).toEqual([0, 0, 1, 1]);
  });

  it('reports nulls for an all-zero map instead of NaN', async () => {
    const stats = await camStats(
      map(10, 10, () => 0),
      { mask: new Uint8Array(100).fill(1) },
    );
    expect(stats).toEqual({
      peak: null,
      entropy: null,
      normalizedEntropy: null,
      borderEnergy: null,
      borderArea: 0.36,
      maskEnergy: null,
      maskArea: 1,
      peakInMask: null,
    });
  });

  it('rejects a mask that is neither raw bytes of the right size nor an image', async () => {
    await expect(
      camStats(
        map(4, 4, () => 1),
        { mask: new Uint8Array(5) },
      ),
    ).rejects.toThrow(ImageDecodeError);
    await expect(
      camStats(
        map(4, 4, () => 1),
        { mask: new Uint8Array(5) },
      ),
    ).rejects.toThrow(/neither 4x4 raw bytes nor an image/);
    await expect(
      camStats(
        map(4, 4, () => 1),
        { border: 0.7 },
      ),
    ).rejects.toThrow(/border/);
  });

  it('works on a CAM mapped to a 300x200 original: peak where the hot cell is', async () => {
    const cam = { width: 8, height: 8, data: new Float32Array(64) };
    cam.data[2 * 8 + 6] = 1; // lands at original (212.5, 62.5), see cammap tests
    const stats = await camStats(camToOriginal(cam, computeGeometry(300, 200, seedCard)));
    expect(stats.peak!.x).toBeCloseTo(212.5 / 300, 2);
    expect(stats.peak!.y).toBeCloseTo(62.5 / 200, 2);
    expect(stats.normalizedEntropy!).toBeGreaterThan(0.3);
    expect(stats.normalizedEntropy!).toBeLessThan(0.9);
  });
});

describe('statsRows (camStats one row at a time)', () => {
  const r = new Uint32Array(noise(4 * 300 * 200, 3).buffer);
  const cam = {
    width: 8,
    height: 8,
    data: Float32Array.from({ length: 64 }, (_, i) => (i * 37) % 17),
  };
  const maps: [string, Heatmap][] = [
    ['one hot pixel', map(100, 50, (x, y) => (x === 30 && y === 10 ? 0.8 : 0))],
    ['uniform', map(100, 50, () => 0.5)],
    ['random', map(300, 200, (x, y) => r[y * 300 + x] / 2 ** 32)],
    [
      'with NaN, negatives, -0, tiny',
      map(40, 30, (x, y) => [Number.NaN, -1, -0, 1e-40, 0.3][(x + y) % 5]),
    ],
    ['all zero', map(10, 10, () => 0)],
    ['a CAM on a 300x200 original', camToOriginal(cam, computeGeometry(300, 200, seedCard))],
    ['1 pixel', map(1, 1, () => 0.7)],
  ];
  for (const [name, heat] of maps) {
    it(`equals camStats, the entropy within 1e-6 bits: ${name}`, async () => {
      const n = heat.width * heat.height;
      const mask = new Uint8Array(n).map((_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
      for (const options of [{}, { border: 0 }, { border: 0.5 }, { border: 0.23, mask }]) {
        expectSameStats(await streamed(heat, options), await camStats(heat, options));
      }
    });
  }

  it('rows with spans (heat 0 outside them) give the same numbers', async () => {
    const heat = map(60, 40, (x, y) => (y < 6 || x < 10 || x >= 45 ? 0 : ((x * y) % 13) / 13));
    const mask = new Uint8Array(2400).map((_, i) => (i % 5 === 0 ? 1 : 0));
    const acc = await statsRows(heat, { mask, border: 0.15 });
    for (let y = 0; y < 40; y++) {
      const row = heat.data.subarray(y * 60, (y + 1) * 60);
      if (y < 6) acc.row(y, row, 0, 0);
      else acc.row(y, row, 10, 45);
    }
    expect(acc.result()).toEqual(await streamed(heat, { mask, border: 0.15 }));
  });

  it('rejects a bad border like camStats', async () => {
    await expect(statsRows({ width: 4, height: 4 }, { border: 0.7 })).rejects.toThrow(/border/);
  });
});
