import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  classNames,
  describeSample,
  findingMask,
  markerProbability,
  NEGATIVE_MARKER_FACTOR,
  type SynthSample,
  synthesize,
  writeSynthDataset,
} from '../../src/synth/index.js';
import { binomialTolerance, count, isBinary, sha256 } from './helpers.js';

const three = { count: 45, seed: 61, size: 128, classes: 3 as const };
const samples: SynthSample[] = [...synthesize(three)];

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('synth with 3 classes', () => {
  it('names the classes by label', () => {
    expect(classNames(3)).toEqual(['normal', 'pneumonia', 'cardiomegaly']);
    expect(classNames()).toEqual(['normal', 'pneumonia']);
  });

  it('draws a third of each class by default (labels only, 6000 samples)', () => {
    const n = 6000;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[describeSample({ ...three, count: n }, i).label]++;
    for (const c of counts) {
      expect(Math.abs(c / n - 1 / 3)).toBeLessThan(binomialTolerance(1 / 3, n));
    }
  });

  it('keeps the binary labels: an image positive with 2 classes is abnormal with 3', () => {
    for (let i = 0; i < 200; i++) {
      const two = describeSample({ count: 200, seed: 62, positiveRate: 0.5 }, i);
      const tri = describeSample({ count: 200, seed: 62, positiveRate: 0.5, classes: 3 }, i);
      expect(tri.label > 0).toBe(two.label === 1);
    }
  });

  it('gives pneumonia opacities, cardiomegaly none, and every image a heart mask', () => {
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set([0, 1, 2]));
    for (const s of samples) {
      expect(count(s.lesionMask) > 0).toBe(s.label === 1);
      expect(s.lesions.length > 0).toBe(s.label === 1);
      if (!s.heartMask) throw new Error('3 classes give a heart mask');
      expect(isBinary(s.heartMask)).toBe(true);
      expect(sha256(findingMask(s))).toBe(sha256(s.label === 2 ? s.heartMask : s.lesionMask));
    }
  });

  it('draws cardiomegaly hearts clearly wider than normal ones', () => {
    const width = (s: SynthSample) => {
      if (!s.heartMask) throw new Error('no heart mask');
      let x0 = s.size;
      let x1 = -1;
      for (let k = 0; k < s.heartMask.length; k++) {
        if (!s.heartMask[k]) continue;
        x0 = Math.min(x0, k % s.size);
        x1 = Math.max(x1, k % s.size);
      }
      return x1 - x0 + 1;
    };
    const byClass = (c: number) => samples.filter((s) => s.label === c).map(width);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const normal = byClass(0);
    const enlarged = byClass(2);
    expect(mean(enlarged)).toBeGreaterThan(1.1 * mean(normal));
    // Not trivially: the largest normal hearts reach the smallest enlarged ones' range.
    expect(Math.max(...normal)).toBeGreaterThan(0.9 * Math.min(...enlarged));
  });

  it('gives no heart mask with 2 classes', () => {
    const [s] = [...synthesize({ count: 1, seed: 1, size: 64 })];
    expect(s.heartMask).toBeNull();
  });

  it('ties the shortcut to --shortcut-class (labels and flags, 6000 samples)', () => {
    const n = 6000;
    const opts = {
      ...three,
      count: n,
      shortcut: 0.9,
      shortcutClass: 2,
      artifact: 'electrode' as const,
    };
    const marked = [0, 0, 0];
    const total = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const d = describeSample(opts, i);
      total[d.label]++;
      if (d.hasMarker) marked[d.label]++;
    }
    expect(markerProbability(2, 0.9, 0, 2)).toBe(0.9);
    const pOther = 0.9 * NEGATIVE_MARKER_FACTOR;
    expect(Math.abs(marked[2] / total[2] - 0.9)).toBeLessThan(binomialTolerance(0.9, total[2]));
    for (const c of [0, 1]) {
      expect(Math.abs(marked[c] / total[c] - pOther)).toBeLessThan(
        binomialTolerance(pOther, total[c]),
      );
    }
  });

  it('rejects bad class options', () => {
    const base = { count: 1, seed: 1 };
    expect(() => describeSample({ ...base, classes: 4 as 3 }, 0)).toThrow(RangeError);
    expect(() => describeSample({ ...base, classes: 3, shortcutClass: 3 }, 0)).toThrow(RangeError);
    expect(() => describeSample({ ...base, shortcutClass: 2 }, 0)).toThrow(RangeError);
    expect(() => describeSample({ ...base, shortcutClass: 0.5 }, 0)).toThrow(RangeError);
  });

  it('writes class indices to labels.csv, the names to classes.json, the heart to masks/', async () => {
    const out = await mkdtemp(join(tmpdir(), 'camflow-synth3-'));
    dirs.push(out);
    const opts = {
      count: 9,
      seed: 63,
      size: 64,
      classes: 3 as const,
      shortcut: 1,
      shortcutClass: 2,
    };
    const result = await writeSynthDataset({ ...opts, out, artifact: 'electrode' });
    const written = [...synthesize({ ...opts, artifact: 'electrode' })];
    const csv = (await readFile(join(out, 'labels.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('file,label,marker');
    expect(csv.slice(1)).toEqual(
      written.map((s) => `${s.name}.png,${s.label},${s.hasMarker ? 1 : 0}`),
    );
    expect(JSON.parse(await readFile(join(out, 'classes.json'), 'utf8'))).toEqual(classNames(3));
    expect(result.perClass.map((c) => c.images)).toEqual(
      [0, 1, 2].map((c) => written.filter((s) => s.label === c).length),
    );
    const cardio = written.find((s) => s.label === 2);
    if (!cardio?.heartMask) throw new Error('the fixture has a cardiomegaly image');
    const png = await readFile(join(out, 'masks', `${cardio.name}.png`));
    const { data } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(sha256(new Uint8Array(data))).toBe(sha256(cardio.heartMask));
  });

  it('writes no classes.json with 2 classes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'camflow-synth2-'));
    dirs.push(out);
    await writeSynthDataset({ count: 2, seed: 1, size: 64, out });
    await expect(readFile(join(out, 'classes.json'))).rejects.toThrow();
  });
});
