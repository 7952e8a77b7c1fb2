import { expect } from 'vitest';
import type { CamStats } from '../../src/stats.js';

/** Streamed statistics equal camStats', the entropy within 1e-6 bits (a table-based log2). */
export function expectSameStats(got: CamStats, want: CamStats) {
  const { entropy, normalizedEntropy, ...rest } = got;
  const { entropy: e, normalizedEntropy: ne, ...wantRest } = want;
  expect(rest).toEqual(wantRest);
  if (e === null) expect(entropy).toBeNull();
  else expect(Math.abs(entropy! - e)).toBeLessThan(1e-6);
  if (ne === null) expect(normalizedEntropy).toBeNull();
  else expect(Math.abs(normalizedEntropy! - ne)).toBeLessThan(1e-7);
}
