// A case that is recorded for docs/RELIABILITY.md and asserted in the same step.
import { expect } from 'vitest';
import type { Outcomes } from './outcomes.js';

/** `check(name, expected, observed, pass?)`: records the case, then fails the test if it failed. */
export function checker(outcomes: Outcomes) {
  return (name: string, expected: string, observed: string, pass = expected === observed) => {
    outcomes.record(name, expected, observed, pass);
    expect(pass, `${name}: expected ${expected}, observed ${observed}`).toBe(true);
  };
}
