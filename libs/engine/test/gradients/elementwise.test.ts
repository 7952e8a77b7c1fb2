import { describe } from 'vitest';
import { elementwiseCases } from './cases/elementwise.js';
import { testCases } from './harness.js';

describe('gradients of elementwise ops', () => testCases(elementwiseCases));
