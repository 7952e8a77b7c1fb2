import { describe, expect, it } from 'vitest';
import {
  describeSample,
  markerProbability,
  NEGATIVE_MARKER_FACTOR,
  type SynthOptions,
  synthesize,
} from '../../src/synth/index.js';
import { binomialTolerance, count } from './helpers.js';

/** Marker rates by class over rendered samples (small images keep this fast). */
function rates(opts: SynthOptions) {
  let pos = 0;
  let neg = 0;
  let posMarked = 0;
  let negMarked = 0;
  for (const s of synthesize({ size: 64, ...opts })) {
    // The flag and the mask agree on every sample.
    expect(count(s.markerMask) > 0).toBe(s.hasMarker);
    if (s.label === 1) {
      pos++;
      if (s.hasMarker) posMarked++;
    } else {
      neg++;
      if (s.hasMarker) negMarked++;
    }
  }
  return { pos, neg, posRate: posMarked / pos, negRate: negMarked / neg, negMarked };
}

describe('synth shortcut statistics', () => {
  it('puts no marker anywhere without a shortcut', () => {
    const r = rates({ count: 400, seed: 5 });
    expect(r.posRate).toBe(0);
    expect(r.negRate).toBe(0);
  });

  it('balances the classes at the default positive rate', () => {
    const r = rates({ count: 400, seed: 6, shortcut: 0.5 });
    expect(Math.abs(r.pos / 400 - 0.5)).toBeLessThan(binomialTolerance(0.5, 400));
  });

  for (const shortcut of [0.3, 0.8]) {
    it(`puts markers on ~${shortcut} of positives and ~${shortcut} x ${NEGATIVE_MARKER_FACTOR} of negatives (400 rendered)`, () => {
      const r = rates({ count: 400, seed: 7, shortcut });
      expect(Math.abs(r.posRate - shortcut)).toBeLessThan(binomialTolerance(shortcut, r.pos));
      const pNeg = shortcut * NEGATIVE_MARKER_FACTOR;
      expect(Math.abs(r.negRate - pNeg)).toBeLessThan(binomialTolerance(pNeg, r.neg));
    });
  }

  it('puts a marker on every positive with shortcut 1, and on 5% of negatives', () => {
    const r = rates({ count: 200, seed: 8, shortcut: 1 });
    expect(r.posRate).toBe(1);
    expect(Math.abs(r.negRate - 0.05)).toBeLessThan(binomialTolerance(0.05, r.neg));
  });

  it('matches the rates tightly over many samples (labels and flags only)', () => {
    const n = 20000;
    for (const [shortcut, markerRate, positiveRate] of [
      [0.6, 0, 0.5],
      [0.2, 0.1, 0.3],
      [0, 0.25, 0.7],
    ]) {
      const opts = { count: n, seed: 9, shortcut, markerRate, positiveRate };
      let pos = 0;
      let posMarked = 0;
      let negMarked = 0;
      for (let i = 0; i < n; i++) {
        const d = describeSample(opts, i);
        if (d.label === 1) {
          pos++;
          if (d.hasMarker) posMarked++;
        } else if (d.hasMarker) {
          negMarked++;
        }
      }
      const neg = n - pos;
      expect(Math.abs(pos / n - positiveRate)).toBeLessThan(binomialTolerance(positiveRate, n));
      const pPos = markerProbability(1, shortcut, markerRate);
      const pNeg = markerProbability(0, shortcut, markerRate);
      expect(Math.abs(posMarked / pos - pPos)).toBeLessThan(binomialTolerance(pPos, pos));
      expect(Math.abs(negMarked / neg - pNeg)).toBeLessThan(binomialTolerance(pNeg, neg));
    }
  });

  it('makes a label-independent base rate (markerRate) hit both classes alike', () => {
    const r = rates({ count: 400, seed: 10, markerRate: 0.3 });
    expect(Math.abs(r.posRate - 0.3)).toBeLessThan(binomialTolerance(0.3, r.pos));
    expect(Math.abs(r.negRate - 0.3)).toBeLessThan(binomialTolerance(0.3, r.neg));
  });

  it('defines the marker probability as documented', () => {
    expect(markerProbability(1, 0.8)).toBeCloseTo(0.8);
    expect(markerProbability(0, 0.8)).toBeCloseTo(0.8 * NEGATIVE_MARKER_FACTOR);
    expect(markerProbability(0, 0)).toBe(0);
    expect(markerProbability(1, 0.5, 0.2)).toBeCloseTo(0.5 + 0.5 * 0.2);
  });

  it('keeps labels fixed and only adds markers as the shortcut grows', () => {
    const base = { count: 2000, seed: 11 };
    for (let i = 0; i < base.count; i++) {
      const weak = describeSample({ ...base, shortcut: 0.3 }, i);
      const strong = describeSample({ ...base, shortcut: 0.8 }, i);
      expect(strong.label).toBe(weak.label);
      if (weak.hasMarker) expect(strong.hasMarker).toBe(true);
    }
  });

  it('honours positiveRate 0 and 1', () => {
    for (let i = 0; i < 200; i++) {
      expect(describeSample({ count: 200, seed: 12, positiveRate: 0 }, i).label).toBe(0);
      expect(describeSample({ count: 200, seed: 12, positiveRate: 1 }, i).label).toBe(1);
    }
  });
});
