import { gradRules } from '@camflow/engine';
import { describe, expect, it } from 'vitest';
import { activationCases } from './cases/activations.js';
import { compositeCases } from './cases/composite.js';
import { elementwiseCases } from './cases/elementwise.js';
import { linearCases } from './cases/linear.js';
import { poolCases } from './cases/pool.js';
import { shapeCases } from './cases/shape.js';
import { buildCase } from './harness.js';

/** Every case list that a *.test.ts file in this folder runs through testCases(). */
const allCases = [
  ...elementwiseCases,
  ...activationCases,
  ...shapeCases,
  ...linearCases,
  ...poolCases,
  ...compositeCases,
];

describe('gradient rule coverage', () => {
  it('every op in gradRules is differentiated by at least one finite-difference case', () => {
    const covered = new Set(allCases.flatMap((c) => buildCase(c).opTypes));
    const missing = Object.keys(gradRules).filter((op) => !covered.has(op));
    expect(missing, `rules without a gradient test: ${missing.join(', ')}`).toEqual([]);
  });

  it('case names are unique', () => {
    const names = allCases.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
