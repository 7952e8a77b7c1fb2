import { describe, expect, it } from 'vitest';
import { FLAG_DEFAULTS, flagOptions, flagReasons } from '../src/report/flags.js';

describe('flagReasons', () => {
  const centre = { x: 0.5, y: 0.5 };
  it('flags border energy at or above the threshold', () => {
    expect(flagReasons({ borderEnergy: 0.35, peak: centre })).toEqual(['border-energy']);
    expect(flagReasons({ borderEnergy: 0.34, peak: centre })).toEqual([]);
  });
  it('flags a peak inside the border band on any side', () => {
    for (const peak of [
      { x: 0.05, y: 0.5 },
      { x: 0.95, y: 0.5 },
      { x: 0.5, y: 0.02 },
      { x: 0.5, y: 0.99 },
    ])
      expect(flagReasons({ borderEnergy: 0.1, peak })).toEqual(['peak-in-border']);
    expect(flagReasons({ borderEnergy: 0.1, peak: { x: 0.1, y: 0.9 } })).toEqual([]);
  });
  it('judges mask energy only when asked to', () => {
    const stats = { borderEnergy: 0.1, peak: centre, maskEnergy: 0.2 };
    expect(flagReasons(stats)).toEqual([]);
    expect(flagReasons(stats, flagOptions({ minMaskEnergy: 0.5 }))).toEqual(['off-mask']);
  });
  it('takes thresholds as options and tolerates missing statistics', () => {
    const strict = flagOptions({ borderEnergy: 0.6, borderBand: 0.05 });
    expect(flagReasons({ borderEnergy: 0.5, peak: { x: 0.07, y: 0.5 } }, strict)).toEqual([]);
    expect(flagReasons({ borderEnergy: null, peak: null })).toEqual([]);
    expect(flagReasons(undefined)).toEqual([]);
    expect(FLAG_DEFAULTS).toEqual({ borderEnergy: 0.35, borderBand: 0.1 });
    expect(() => flagOptions({ borderBand: 0.7 })).toThrow(RangeError);
  });
});
