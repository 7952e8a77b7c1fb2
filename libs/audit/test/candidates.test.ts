import { describe, expect, test } from 'vitest';
import {
  AuditCollector,
  type AuditImage,
  CANDIDATE_DEFAULTS,
  findCandidates,
} from '../src/index.js';
import { positive, uniform } from './helpers.js';

function collect(images: AuditImage[]) {
  const c = new AuditCollector({ faithfulnessImages: 0 });
  for (const img of images) c.add(img);
  return c.result();
}

/** Peaks spread over a broad organ-like region (cells 3..12 x 4..11), like lesions in lungs. */
function spread(n: number, seed: number, prefix = 'spread'): AuditImage[] {
  const u = uniform(seed);
  return Array.from({ length: n }, (_, i) =>
    positive(`${prefix}${i}`, Math.floor(u(3, 13)), Math.floor(u(4, 12))),
  );
}

describe('candidate regions', () => {
  test('a tight cluster at a corner stands out from peaks spread over an organ', () => {
    const images = [
      ...spread(70, 1),
      ...Array.from({ length: 30 }, (_, i) => positive(`m${i}`, 14 + (i % 2), 0)),
    ];
    const c = collect(images);
    const cands = findCandidates(c.classes.get(1)!, c.frame!);
    expect(cands).toHaveLength(1);
    const [x, y, w, h] = cands[0].box;
    // The cluster's peaks sit at pixels (232..248, 8): the box holds them and stays compact.
    expect(x).toBeLessThanOrEqual(232);
    expect(x + w).toBeGreaterThanOrEqual(249);
    expect(y).toBeLessThanOrEqual(8);
    expect((w * h) / 256 ** 2).toBeLessThanOrEqual(0.1);
    expect(cands[0].imageShare).toBeCloseTo(0.3, 2);
    expect(cands[0].carriers.every((i) => c.classes.get(1)!.ids[i].startsWith('m'))).toBe(true);
    expect(cands[0].isolation).toBeGreaterThanOrEqual(CANDIDATE_DEFAULTS.minIsolation);
  });

  test('a text band: peaks along a strip at the top centre are one candidate that covers it', () => {
    // A stamp across cells 4..11 of row 0: each image peaks somewhere along the text.
    const u = uniform(9);
    const images = [
      ...spread(80, 2),
      ...Array.from({ length: 40 }, (_, i) => positive(`b${i}`, Math.floor(u(4, 12)), 0)),
    ];
    const c = collect(images);
    const cands = findCandidates(c.classes.get(1)!, c.frame!);
    expect(cands).toHaveLength(1);
    const [x, y, w, h] = cands[0].box;
    expect(w).toBeGreaterThan(2 * h); // a strip, not a square
    expect(y).toBe(0);
    // It holds every peak centre along the text (cells 4..11: pixels 72..184).
    expect(x).toBeLessThanOrEqual(4 * 16 + 8);
    expect(x + w).toBeGreaterThanOrEqual(11 * 16 + 8);
    expect(cands[0].carriers.every((i) => c.classes.get(1)!.ids[i].startsWith('b'))).toBe(true);
    expect(cands[0].imageShare).toBeCloseTo(40 / 120, 2);
  });

  test('peaks spread over an organ give no candidate', () => {
    const c = collect(spread(200, 7));
    expect(findCandidates(c.classes.get(1)!, c.frame!)).toEqual([]);
  });

  test('several clusters are found one by one; a small one below the excess share is not', () => {
    const corner = (p: string, cx: number, cy: number, n: number) =>
      Array.from({ length: n }, (_, i) => positive(`${p}${i}`, cx, cy));
    const images = [
      ...spread(60, 3),
      ...corner('a', 0, 0, 20),
      ...corner('b', 15, 15, 20),
      ...corner('c', 0, 15, 3),
    ];
    const c = collect(images);
    const cands = findCandidates(c.classes.get(1)!, c.frame!);
    expect(
      cands.map((k) => [Math.round(k.box[0] / 128), Math.round(k.box[1] / 128)]).sort(),
    ).toEqual([
      [0, 0],
      [2, 2],
    ]);
  });

  test('only images predicted as the class their CAM explains are audited', () => {
    const neg = { ...positive('n', 0, 0, 0.2), predicted: 0 };
    const c = collect([neg, positive('p', 5, 5)]);
    expect(c.classes.get(1)?.ids).toEqual(['p']);
    expect(c.classes.get(0)).toBeUndefined();
    expect(c.atlases.get('predicted:0')?.count).toBe(1);
  });
});
