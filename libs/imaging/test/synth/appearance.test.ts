import { describe, expect, it } from 'vitest';
import { type SynthSample, synthesize } from '../../src/synth/index.js';
import { meanWhere } from './helpers.js';

const SIZE = 256;
const samples: SynthSample[] = [...synthesize({ count: 40, seed: 2024 })];

/** Pixel index test for a rectangle given in fractions of the image. */
function rect(x0: number, y0: number, x1: number, y1: number): (k: number) => boolean {
  return (k) => {
    const x = (k % SIZE) / SIZE;
    const y = Math.floor(k / SIZE) / SIZE;
    return x >= x0 && x < x1 && y >= y0 && y < y1;
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

describe('synth phantoms look like chest X-rays (statistically)', () => {
  it('has dark lungs against the brighter mediastinum and spine', () => {
    for (const s of samples) {
      const lungs = meanWhere(s.image, (k) => s.lungMask[k] === 255);
      // Central column over the chest: spine and mediastinum whatever the random shift.
      const centre = meanWhere(s.image, rect(0.47, 0.25, 0.53, 0.6));
      expect(centre - lungs).toBeGreaterThan(40);
    }
  });

  it('has lungs darker than the soft tissue below the diaphragm', () => {
    for (const s of samples) {
      const lungs = meanWhere(s.image, (k) => s.lungMask[k] === 255);
      const abdomen = meanWhere(s.image, rect(0.3, 0.9, 0.7, 1));
      expect(abdomen - lungs).toBeGreaterThan(40);
    }
  });

  it('has a dark background above the shoulders, outside the body', () => {
    for (const s of samples) {
      const corners = [rect(0, 0, 0.04, 0.04), rect(0.96, 0, 1, 0.04)];
      const lungs = meanWhere(s.image, (k) => s.lungMask[k] === 255);
      for (const c of corners) {
        const bg = meanWhere(s.image, (k) => c(k) && s.markerMask[k] === 0);
        expect(lungs - bg).toBeGreaterThan(25);
      }
    }
  });

  it('shows ribs: bright bands make lung rows vary', () => {
    // Along a vertical line through a lung, ribs alternate with intercostal spaces.
    for (const s of samples.slice(0, 10)) {
      let best = 0;
      for (let col = Math.floor(SIZE * 0.15); col < SIZE * 0.35; col += 4) {
        const values: number[] = [];
        for (let row = 0; row < SIZE; row++) {
          if (s.lungMask[row * SIZE + col]) values.push(s.image[row * SIZE + col]);
        }
        if (values.length > 60) best = Math.max(best, std(values));
      }
      expect(best).toBeGreaterThan(8);
    }
  });

  it('puts the heart on the image right: the right lung field is the smaller one', () => {
    let smallerRight = 0;
    for (const s of samples) {
      let left = 0;
      let right = 0;
      for (let k = 0; k < s.lungMask.length; k++) {
        if (!s.lungMask[k]) continue;
        if (k % SIZE < SIZE / 2) left++;
        else right++;
      }
      if (right < left) smallerRight++;
    }
    expect(smallerRight / samples.length).toBeGreaterThan(0.8);
  });

  it('makes opacities brighter than the surrounding lung', () => {
    const positives = samples.filter((s) => s.label === 1);
    expect(positives.length).toBeGreaterThan(10);
    for (const s of positives) {
      const lesion = meanWhere(s.image, (k) => s.lesionMask[k] === 255);
      const lung = meanWhere(s.image, (k) => s.lungMask[k] === 255 && s.lesionMask[k] === 0);
      expect(lesion - lung).toBeGreaterThan(8);
    }
  });

  it('varies brightness, contrast and position from image to image', () => {
    const means = samples.map((s) => meanWhere(s.image, () => true));
    expect(std(means)).toBeGreaterThan(4);
    const lungMeans = samples.map((s) => meanWhere(s.image, (k) => s.lungMask[k] === 255));
    expect(std(lungMeans)).toBeGreaterThan(4);
    // Centroid of the lung mask moves by a few pixels.
    const cx = samples.map((s) => {
      let sum = 0;
      let n = 0;
      for (let k = 0; k < s.lungMask.length; k++) {
        if (s.lungMask[k]) {
          sum += k % SIZE;
          n++;
        }
      }
      return sum / n;
    });
    expect(std(cx)).toBeGreaterThan(2);
  });

  it('uses most of the grey range without saturating the image', () => {
    for (const s of samples) {
      let lo = 0;
      let hi = 0;
      for (let k = 0; k < s.image.length; k++) {
        if (s.markerMask[k]) continue;
        if (s.image[k] <= 2) lo++;
        if (s.image[k] >= 253) hi++;
      }
      expect(hi / s.image.length).toBeLessThan(0.01);
      expect(lo / s.image.length).toBeLessThan(0.2);
    }
  });

  it('scales with the image size: the same phantom at 128 and 256 pixels', () => {
    const small = [...synthesize({ count: 3, seed: 2024, size: 128 })];
    for (let i = 0; i < small.length; i++) {
      let a = 0;
      let b = 0;
      for (const v of small[i].lungMask) if (v) a++;
      for (const v of samples[i].lungMask) if (v) b++;
      expect(Math.abs(a / 128 ** 2 - b / SIZE ** 2)).toBeLessThan(0.01);
    }
  });
});
