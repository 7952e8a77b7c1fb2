import { describe } from 'vitest';
import { nonDifferentiableCases } from './cases/non-differentiable.js';
import { testCases } from './harness.js';

describe('ops that carry no gradient, on the way to the output', () =>
  testCases(nonDifferentiableCases));
