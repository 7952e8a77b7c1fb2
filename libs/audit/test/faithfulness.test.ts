import { describe, expect, test } from 'vitest';
import {
  auc,
  blurred,
  camOrder,
  curves,
  FAITHFULNESS_STEPS,
  faithfulnessInputs,
  randomOrder,
} from '../src/index.js';

describe('faithfulness curves', () => {
  test('the area under a constant curve is the constant; a falling line gives 0.5', () => {
    expect(auc(new Array(FAITHFULNESS_STEPS.length + 2).fill(0.7))).toBeCloseTo(0.7, 12);
    const xs = [0, ...FAITHFULNESS_STEPS, 1];
    expect(auc(xs.map((x) => 1 - x))).toBeCloseTo(0.5, 12);
  });

  test('orders: the CAM hottest first (ties shuffled by the seed), random a permutation', () => {
    const heat = Float32Array.from([0.1, 0.9, 0.5, 0.9]);
    const o = Array.from(camOrder(heat, 3));
    expect(o.slice(2)).toEqual([2, 0]);
    expect(o.slice(0, 2).sort()).toEqual([1, 3]);
    expect(Array.from(randomOrder(100, 5)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('inputs: the blurred image, then deletion and insertion in each order', () => {
    const width = 16;
    const height = 16;
    const data = Float32Array.from({ length: 256 }, (_, i) => (i % 16 < 8 ? 1 : 0));
    const t = { data, width, height, channels: 1, layout: 'NCHW' as const };
    const heat = Float32Array.from({ length: 256 }, (_, i) => (i % 16 < 8 ? 1 - i / 512 : 0));
    const f = faithfulnessInputs(t, heat, 1);
    expect(f.count).toBe(1 + 4 * FAITHFULNESS_STEPS.length);
    const base = f.input(0);
    expect(Array.from(base)).toEqual(Array.from(blurred(t)));
    // Deletion at 50% in the CAM's order replaces exactly the left half (the hot half) by the blur.
    const del50 = f.input(1 + FAITHFULNESS_STEPS.indexOf(0.5));
    for (let i = 0; i < 256; i++) expect(del50[i]).toBe(i % 16 < 8 ? base[i] : data[i]);
    // Insertion at 50% restores the left half onto the blur.
    const ins50 = f.input(1 + FAITHFULNESS_STEPS.length + FAITHFULNESS_STEPS.indexOf(0.5));
    for (let i = 0; i < 256; i++) expect(ins50[i]).toBe(i % 16 < 8 ? data[i] : base[i]);
    const c = curves(
      0.9,
      Array.from({ length: f.count }, (_, i) => i / 100),
    );
    expect(c.deletion[0]).toBe(0.9);
    expect(c.deletion.at(-1)).toBe(0);
    expect(c.insertion[0]).toBe(0);
    expect(c.insertion.at(-1)).toBe(0.9);
  });
});
