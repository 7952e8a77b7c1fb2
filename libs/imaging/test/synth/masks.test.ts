import { describe, expect, it } from 'vitest';
import { type SynthSample, synthesize } from '../../src/synth/index.js';
import { bbox, count, isBinary } from './helpers.js';

// A strong shortcut and a non-zero base rate, so that both classes carry markers.
const samples: SynthSample[] = [
  ...synthesize({ count: 60, seed: 99, shortcut: 0.8, markerRate: 0.3 }),
];

describe('synth masks and labels', () => {
  it('has both classes and markers on both classes in the fixture', () => {
    const labels = new Set(samples.map((s) => s.label));
    expect(labels).toEqual(new Set([0, 1]));
    expect(samples.some((s) => s.label === 0 && s.hasMarker)).toBe(true);
    expect(samples.some((s) => s.label === 1 && s.hasMarker)).toBe(true);
  });

  it('names samples img_<index>, zero padded', () => {
    expect(samples[0].name).toBe('img_00000');
    expect(samples[42].name).toBe('img_00042');
    samples.forEach((s, i) => {
      expect(s.index).toBe(i);
    });
  });

  it('gives size x size arrays and strictly binary (0/255) masks', () => {
    for (const s of samples) {
      expect(s.size).toBe(256);
      for (const a of [s.image, s.lesionMask, s.markerMask, s.lungMask]) {
        expect(a).toBeInstanceOf(Uint8Array);
        expect(a.length).toBe(256 * 256);
      }
      expect(isBinary(s.lesionMask)).toBe(true);
      expect(isBinary(s.markerMask)).toBe(true);
      expect(isBinary(s.lungMask)).toBe(true);
    }
  });

  it('gives positives 1 to 3 opacities with a non-empty mask entirely inside the lungs', () => {
    for (const s of samples.filter((x) => x.label === 1)) {
      expect(s.lesions.length).toBeGreaterThanOrEqual(1);
      expect(s.lesions.length).toBeLessThanOrEqual(3);
      const area = count(s.lesionMask);
      expect(area).toBeGreaterThan(100);
      for (let k = 0; k < s.lesionMask.length; k++) {
        if (s.lesionMask[k]) expect(s.lungMask[k]).toBe(255);
      }
      for (const l of s.lesions) {
        expect(l.cx).toBeGreaterThan(0);
        expect(l.cx).toBeLessThan(1);
        expect(l.radius).toBeGreaterThan(0.02);
        expect(l.radius).toBeLessThan(0.15);
        // The centre of each opacity is in the lungs.
        const k = Math.floor(l.cy * s.size) * s.size + Math.floor(l.cx * s.size);
        expect(s.lungMask[k]).toBe(255);
      }
    }
  });

  it('gives negatives no opacity and an empty lesion mask', () => {
    for (const s of samples.filter((x) => x.label === 0)) {
      expect(s.lesions).toEqual([]);
      expect(count(s.lesionMask)).toBe(0);
    }
  });

  it('has lungs of a plausible size in every image', () => {
    for (const s of samples) {
      const frac = count(s.lungMask) / (s.size * s.size);
      expect(frac).toBeGreaterThan(0.15);
      expect(frac).toBeLessThan(0.4);
      // Both lungs: lung pixels on either side of the image centre.
      let left = 0;
      let right = 0;
      for (let k = 0; k < s.lungMask.length; k++) {
        if (!s.lungMask[k]) continue;
        if (k % s.size < s.size / 2) left++;
        else right++;
      }
      expect(Math.min(left, right) / Math.max(left, right)).toBeGreaterThan(0.5);
    }
  });

  it('marks a marker exactly where hasMarker says, as the token box near a corner', () => {
    for (const s of samples) {
      const n = count(s.markerMask);
      if (!s.hasMarker) {
        expect(n).toBe(0);
        expect(s.marker).toBeNull();
        continue;
      }
      const m = s.marker!;
      expect(n).toBe(m.width * m.height);
      expect(bbox(s.markerMask, s.size)).toEqual({
        x0: m.x,
        y0: m.y,
        x1: m.x + m.width - 1,
        y1: m.y + m.height - 1,
      });
      // Within 15% of the image size of the named corner.
      const near = 0.15 * s.size;
      const cx = m.corner.endsWith('left') ? m.x : s.size - (m.x + m.width);
      const cy = m.corner.startsWith('top') ? m.y : s.size - (m.y + m.height);
      expect(cx).toBeLessThan(near);
      expect(cy).toBeLessThan(near);
      // Never on the lungs or an opacity.
      for (let k = 0; k < s.markerMask.length; k++) {
        if (s.markerMask[k]) {
          expect(s.lungMask[k]).toBe(0);
          expect(s.lesionMask[k]).toBe(0);
        }
      }
    }
  });

  it('draws the marker as bright strokes inside its box', () => {
    for (const s of samples.filter((x) => x.hasMarker)) {
      let bright = 0;
      for (let k = 0; k < s.markerMask.length; k++) {
        if (s.markerMask[k] && s.image[k] >= 200) bright++;
      }
      // An "L" is the sparsest glyph: 11 of 35 cells, each at least 2x2 pixels.
      expect(bright).toBeGreaterThanOrEqual(44);
    }
  });
});
