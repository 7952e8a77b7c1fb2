import { describe, expect, it } from 'vitest';
import {
  COLORMAPS,
  colormapIndex,
  colormapLut,
  heatIndex,
  heatIndexer,
  indexHeat,
} from '../src/colormap.js';
import { noise } from './helpers/pixels.js';

// Reference entries: jet from matplotlib's LinearSegmentedColormap lookup table (N = 256);
// turbo from Google's published table; viridis and inferno from matplotlib's tables.
const reference: Record<string, [number, [number, number, number]][]> = {
  jet: [
    [0, [0, 0, 0.5]],
    [37, [0, 0.080392, 1]],
    [100, [0.13599, 1, 0.831752]],
    [128, [0.490196, 1, 0.477546]],
    [200, [1, 0.465505, 0]],
    [255, [0.5, 0, 0]],
  ],
  turbo: [
    [0, [0.18995, 0.07176, 0.23217]],
    [37, [0.2768, 0.47151, 0.94214]],
    [100, [0.24797, 0.96423, 0.54303]],
    [128, [0.64362, 0.98999, 0.23356]],
    [200, [0.95801, 0.39958, 0.08831]],
    [255, [0.4796, 0.01583, 0.01055]],
  ],
  viridis: [
    [0, [0.267004, 0.004874, 0.329415]],
    [37, [0.274128, 0.199721, 0.498911]],
    [100, [0.166617, 0.463708, 0.558119]],
    [128, [0.127568, 0.566949, 0.550556]],
    [200, [0.440137, 0.811138, 0.340967]],
    [255, [0.993248, 0.906157, 0.143936]],
  ],
  inferno: [
    [0, [0.001462, 0.000466, 0.013866]],
    [37, [0.162689, 0.043554, 0.333277]],
    [100, [0.565854, 0.143567, 0.408258]],
    [128, [0.735683, 0.215906, 0.330245]],
    [200, [0.985952, 0.61575, 0.025592]],
    [255, [0.988362, 0.998364, 0.644924]],
  ],
};

describe('colormaps', () => {
  it('jet equals matplotlib cm.jet (computed from the same control points)', () => {
    const lut = colormapLut('jet');
    for (const [i, rgb] of reference.jet) {
      for (let c = 0; c < 3; c++) expect(lut[i * 3 + c]).toBeCloseTo(rgb[c], 5);
    }
  });

  for (const name of ['turbo', 'viridis', 'inferno'] as const) {
    it(`${name} stays within 3/255 of the published table`, () => {
      const lut = colormapLut(name);
      for (const [i, rgb] of reference[name]) {
        for (let c = 0; c < 3; c++) expect(Math.abs(lut[i * 3 + c] - rgb[c])).toBeLessThan(3 / 255);
      }
    });
  }

  it('gray is the identity and every map has 256 RGB entries in [0, 1]', () => {
    const gray = colormapLut('gray');
    expect(gray[3 * 51]).toBeCloseTo(0.2, 6);
    for (const name of COLORMAPS) {
      const lut = colormapLut(name);
      expect(lut.length).toBe(768);
      expect(lut.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it('viridis and inferno get brighter monotonically (perceptual maps)', () => {
    for (const name of ['viridis', 'inferno'] as const) {
      const lut = colormapLut(name);
      const luma = (i: number) =>
        0.2126 * lut[i * 3] + 0.7152 * lut[i * 3 + 1] + 0.0722 * lut[i * 3 + 2];
      for (let i = 8; i < 256; i += 8) expect(luma(i)).toBeGreaterThan(luma(i - 8));
    }
  });

  it('looks values up like matplotlib: floor(v * 256), 1.0 to the last entry', () => {
    expect(colormapIndex(0)).toBe(0);
    expect(colormapIndex(0.25)).toBe(64);
    expect(colormapIndex(0.999)).toBe(255);
    expect(colormapIndex(1)).toBe(255);
    expect(colormapIndex(-0.1)).toBe(0);
    expect(colormapIndex(Number.NaN)).toBe(0);
  });

  it('rejects unknown names', () => {
    // @ts-expect-error: testing a runtime check
    expect(() => colormapLut('rainbow')).toThrow(/unknown colormap 'rainbow'/);
  });
});

describe('heatIndexer', () => {
  /** float32 values in [0, 1] and around it: random, tiny, near 1, and around every threshold. */
  function samples(gamma: number): Float32Array {
    const bytes = noise(4 * 20000, 7);
    const u = new Uint32Array(bytes.buffer);
    const values: number[] = [0, 1, -0, -1, 2, Number.NaN, 1e-30, 1e-45, 0.5, 0.25];
    for (const b of u) values.push((b >>> 8) / 2 ** 24, ((b >>> 8) / 2 ** 24) ** 4);
    const ix = heatIndexer(gamma)!;
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    for (const t of ix.thresholds) {
      if (!Number.isFinite(t) || t === 0) continue;
      f32[0] = t;
      for (const d of [-2, -1, 0, 1, 2]) {
        const copy = new Float32Array(1);
        new Uint32Array(copy.buffer)[0] = bits[0] + d;
        values.push(copy[0]);
      }
    }
    return Float32Array.from(values);
  }

  for (const gamma of [2, 1, 0.5, 1.5, 3, 0.1, 7]) {
    it(`equals colormapIndex(clamp(h) ** ${gamma}) for every sampled float32`, () => {
      const ix = heatIndexer(gamma)!;
      const hs = samples(gamma);
      let bad = 0;
      for (const h of hs) if (indexHeat(h, ix) !== heatIndex(h, gamma)) bad++;
      expect(bad).toBe(0);
      expect(hs.length).toBeGreaterThan(40000);
    });
  }

  it('has no tables for gammas that are not positive and finite', () => {
    for (const gamma of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(heatIndexer(gamma)).toBeUndefined();
    }
    expect(heatIndex(0.5, 0)).toBe(255); // 0.5 ** 0 = 1
  });
});
