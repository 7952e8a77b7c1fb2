import { describe } from 'vitest';
import { shapeCases } from './cases/shape.js';
import { testCases } from './harness.js';

describe('gradients of shape ops', () => testCases(shapeCases));
