import { gradRules, nonDifferentiableOps } from '@camflow/engine';
import { describe, expect, it } from 'vitest';
import { activationCases } from './cases/activations.js';
import { compositeCases } from './cases/composite.js';
import { einsumCases } from './cases/einsum.js';
import { elementwiseCases } from './cases/elementwise.js';
import { linearCases } from './cases/linear.js';
import { nonDifferentiableCases } from './cases/non-differentiable.js';
import { normalizationCases } from './cases/normalization.js';
import { poolCases } from './cases/pool.js';
import { reductionCases } from './cases/reductions.js';
import { resampleCases } from './cases/resampling.js';
import { selectionCases } from './cases/selection.js';
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
  ...normalizationCases,
  ...selectionCases,
  ...resampleCases,
  ...einsumCases,
  ...reductionCases,
  ...nonDifferentiableCases,
];

describe('gradient rule coverage', () => {
  const covered = new Set(allCases.flatMap((c) => buildCase(c).opTypes));

  it('every op in gradRules is differentiated by at least one finite-difference case', () => {
    const missing = Object.keys(gradRules).filter((op) => !covered.has(op));
    expect(missing, `rules without a gradient test: ${missing.join(', ')}`).toEqual([]);
  });

  it('every op declared non-differentiable lies on the way in a finite-difference case', () => {
    const missing = [...nonDifferentiableOps].filter((op) => !covered.has(op));
    expect(missing, `non-differentiable ops without a test: ${missing.join(', ')}`).toEqual([]);
  });

  it('no op is both differentiated and declared non-differentiable', () => {
    expect(Object.keys(gradRules).filter((op) => nonDifferentiableOps.has(op))).toEqual([]);
  });

  it('case names are unique', () => {
    const names = allCases.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
