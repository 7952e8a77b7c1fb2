import { describe } from 'vitest';
import { einsumCases } from './cases/einsum.js';
import { reductionCases } from './cases/reductions.js';
import { resampleCases } from './cases/resampling.js';
import { testCases } from './harness.js';

describe('gradients of resampling ops', () => testCases(resampleCases));
describe('gradients of Einsum', () => testCases(einsumCases));
describe('gradients of reductions (norms, log-sum-exp, min)', () => testCases(reductionCases));
