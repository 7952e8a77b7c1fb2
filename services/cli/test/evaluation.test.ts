import { describe, expect, test } from 'vitest';
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
      o({ label: 1, predicted: 1, peakInLesion: true, lesionEnergy: 0.6 }),
      o({
        label: 1,
        predicted: 0,
        peakInLesion: false,
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
    expect(e.pointingGame).toMatchObject({ positives: 2, hits: 1, rate: 0.5 });
    expect(e.lesionEnergy).toBeCloseTo(0.4, 10);
    expect(e.markerPeak).toMatchObject({ withMarker: 2, onMarker: 1, rate: 0.5 });
    expect(e.markerEnergy).toBeCloseTo(0.3, 10);
    expect(formatEvaluation('m@1', e)).toMatch(/pointing game\s+50\.0%/);
  });

  test('no positives or markers gives n/a, not a division by zero', () => {
    const e = summarise([o({})]);
    expect(e.pointingGame.rate).toBeNaN();
    expect(formatEvaluation('m@1', e)).toMatch(/pointing game\s+n\/a/);
  });
});
