import { describe, expect, it } from 'vitest';
import {
  deriveSeed,
  encodeSamplePngs,
  Random,
  synthesize,
  synthesizeSample,
} from '../../src/synth/index.js';
import { sha256 } from './helpers.js';

const opts = { count: 6, seed: 1234, shortcut: 0.7 };

describe('synth determinism', () => {
  it('gives byte-identical pixels and PNGs for the same seed', async () => {
    const a = [...synthesize(opts)];
    const b = [...synthesize(opts)];
    expect(a.map((s) => s.name)).toEqual(b.map((s) => s.name));
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(a[i].image).equals(Buffer.from(b[i].image))).toBe(true);
      expect(Buffer.from(a[i].lesionMask).equals(Buffer.from(b[i].lesionMask))).toBe(true);
      expect(Buffer.from(a[i].markerMask).equals(Buffer.from(b[i].markerMask))).toBe(true);
      expect(a[i].label).toBe(b[i].label);
      expect(a[i].hasMarker).toBe(b[i].hasMarker);
    }
    const pa = await encodeSamplePngs(a[0]);
    const pb = await encodeSamplePngs(b[0]);
    expect(pa.image.equals(pb.image)).toBe(true);
    expect(pa.mask.equals(pb.mask)).toBe(true);
    expect(pa.marker.equals(pb.marker)).toBe(true);
  });

  it('gives different images for a different seed', () => {
    const a = [...synthesize(opts)];
    const b = [...synthesize({ ...opts, seed: 1235 })];
    for (let i = 0; i < a.length; i++) {
      expect(sha256(a[i].image)).not.toBe(sha256(b[i].image));
    }
  });

  it('gives every sample its own image', () => {
    const hashes = new Set([...synthesize({ ...opts, count: 20 })].map((s) => sha256(s.image)));
    expect(hashes.size).toBe(20);
  });

  it('derives sample i from (seed, i) alone: order, count and batch do not matter', () => {
    const all = [...synthesize({ ...opts, count: 8 })];
    for (const i of [7, 2, 5, 0]) {
      const alone = synthesizeSample(opts, i);
      expect(sha256(alone.image)).toBe(sha256(all[i].image));
      expect(sha256(alone.lesionMask)).toBe(sha256(all[i].lesionMask));
      expect(alone.name).toBe(all[i].name);
      expect(alone.label).toBe(all[i].label);
    }
    // A longer run shares its first samples with a shorter one.
    const longer = [...synthesize({ ...opts, count: 10 })];
    expect(sha256(longer[3].image)).toBe(sha256(all[3].image));
  });

  it('keeps the same anatomy and labels when only the shortcut changes', () => {
    const clean = [...synthesize({ ...opts, count: 12, shortcut: 0 })];
    const biased = [...synthesize({ ...opts, count: 12, shortcut: 1 })];
    for (let i = 0; i < clean.length; i++) {
      expect(biased[i].label).toBe(clean[i].label);
      expect(sha256(biased[i].lesionMask)).toBe(sha256(clean[i].lesionMask));
      // Outside the marker box the pixels are untouched.
      const m = biased[i].markerMask;
      let differs = 0;
      for (let k = 0; k < m.length; k++) {
        if (m[k] === 0 && biased[i].image[k] !== clean[i].image[k]) differs++;
      }
      expect(differs).toBe(0);
    }
  });

  it('produces the pinned pixels for seed 1 (a change here changes every data set)', () => {
    // If the phantom is changed on purpose, update these hashes and say so in the commit.
    const s0 = synthesizeSample({ count: 2, seed: 1, shortcut: 1 }, 0);
    const s1 = synthesizeSample({ count: 2, seed: 1, shortcut: 1 }, 5);
    expect([s0.label, s0.hasMarker, s1.label, s1.hasMarker]).toEqual(PINNED.flags);
    expect(sha256(s0.image)).toBe(PINNED.image0);
    expect(sha256(s1.image)).toBe(PINNED.image1);
    expect(sha256(s0.lesionMask)).toBe(PINNED.mask0);
  });
});

const PINNED = {
  flags: [1, true, 0, false],
  image0: '6ab0b2b7d4d8506efda636739b42518fd91c67efbff2da31b3030520d0cbf4da',
  image1: '528659642b9a038ffa765ec4b25ff7835c4eaea6cd5512ba5ce419b4f7f1edd6',
  mask0: 'af0f9e6dee1c01e5f9a8d8ec35a0413f84da0f847b2807088ee7f3cbde132e91',
};

describe('synth PRNG', () => {
  it('is a pure function of its seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Random(43).next()).not.toBe(xs[0]);
  });

  it('is roughly uniform', () => {
    const r = new Random(7);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) bins[Math.floor(r.next() * 10)]++;
    for (const b of bins) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('derives distinct stream seeds for nearby (seed, index, stream) keys', () => {
    const seen = new Set<number>();
    for (const seed of [0, 1, -1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      for (let index = 0; index < 50; index++) {
        for (let stream = 0; stream < 8; stream++) seen.add(deriveSeed(seed, index, stream));
      }
    }
    expect(seen.size).toBe(5 * 50 * 8);
    expect(() => deriveSeed(1.5)).toThrow(RangeError);
  });
});
