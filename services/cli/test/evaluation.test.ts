import { computeGeometry, seedCard } from '@camflow/imaging';
import { describe, expect, test } from 'vitest';
import { peakCellRegion, peakNear } from '../src/commands/evaluate.js';
import { formatEvaluation, type ImageOutcome, summarise } from '../src/evaluation.js';

const o = (p: Partial<ImageOutcome>): ImageOutcome => ({
  label: 0,
  predicted: 0,
  hasMarker: false,
  peakInLesion: null,
  lesionEnergy: null,
  peakOnMarker: null,
  markerEnergy: null,
  borderEnergy: 0.1,
  ...p,
});

describe('summarise', () => {
  test('accuracy, confusion, pointing game and marker peaks', () => {
    const e = summarise([
      o({ label: 1, predicted: 1, peakInLesion: true, peakNearLesion: true, lesionEnergy: 0.6 }),
      o({
        label: 1,
        predicted: 0,
        peakInLesion: false,
        peakNearLesion: true,
        peakNearMarker: true,
        lesionEnergy: 0.2,
        hasMarker: true,
        peakOnMarker: true,
        markerEnergy: 0.5,
      }),
      o({ label: 0, predicted: 1, hasMarker: true, peakOnMarker: false, markerEnergy: 0.1 }),
      o({ label: 0, predicted: 0 }),
    ]);
    expect(e.confusion).toEqual({ tp: 1, fp: 1, fn: 1, tn: 1 });
    expect(e.accuracy).toBe(0.5);
    expect(e.pointingGame).toMatchObject({ positives: 2, hits: 1, rate: 0.5, nearRate: 1 });
    expect(e.lesionEnergy).toBeCloseTo(0.4, 10);
    expect(e.markerPeak).toMatchObject({ withMarker: 2, onMarker: 1, rate: 0.5, nearRate: 0.5 });
    expect(e.tolerance).toBe(15);
    expect(e.markerEnergy).toBeCloseTo(0.3, 10);
    expect(formatEvaluation('m@1', e)).toMatch(/pointing game\s+50\.0%/);
    expect(formatEvaluation('m@1', e)).toMatch(/peak within 15 px: 100\.0%/);
  });

  test('no positives or markers gives n/a, not a division by zero', () => {
    const e = summarise([o({})]);
    expect(e.pointingGame.rate).toBeNaN();
    expect(formatEvaluation('m@1', e)).toMatch(/pointing game\s+n\/a/);
  });
});

describe('pointing-game geometry', () => {
  // A 20x10 mask with one pixel set at (12, 4).
  const mask = { width: 20, height: 10, data: new Uint8Array(200) };
  mask.data[4 * 20 + 12] = 1;
  const at = (x: number, y: number) => ({ x: (x + 0.5) / 20, y: (y + 0.5) / 10 });

  test('peakNear: within the tolerance (Euclidean, pixel centres), not beyond', () => {
    expect(peakNear(at(12, 4), mask, 0)).toBe(true);
    expect(peakNear(at(15, 8), mask, 5)).toBe(true); // 3-4-5
    expect(peakNear(at(16, 8), mask, 5)).toBe(false); // sqrt(32) > 5
    expect(peakNear(at(0, 0), mask, 15)).toBe(true);
    expect(peakNear(null, mask, 15)).toBe(false);
  });

  test('peakCellRegion: the hottest cell as a tile, or as a stride square on its grid centre', () => {
    const g = computeGeometry(256, 256, seedCard);
    const cam = { width: 8, height: 8, data: new Float32Array(64) };
    cam.data[2 * 8 + 6] = 1; // cell x 6, y 2
    expect(peakCellRegion(cam, g)).toEqual({ x0: 192, x1: 224, y0: 64, y1: 96 });
    const grid = { origin: [0, 0] as [number, number], stride: [32, 32] as [number, number] };
    expect(peakCellRegion({ ...cam, grid }, g)).toEqual({
      x0: 176.5,
      x1: 208.5,
      y0: 48.5,
      y1: 80.5,
    });
  });
});
