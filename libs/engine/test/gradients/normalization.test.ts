import { describe } from 'vitest';
import { normalizationCases } from './cases/normalization.js';
import { testCases } from './harness.js';

describe('gradients of normalisations', () => testCases(normalizationCases));
