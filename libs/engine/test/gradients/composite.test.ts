import { describe } from 'vitest';
import { compositeCases } from './cases/composite.js';
import { testCases } from './harness.js';

describe('gradients through multi-op graphs', () => testCases(compositeCases));
