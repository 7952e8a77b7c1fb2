import { describe } from 'vitest';
import { activationCases } from './cases/activations.js';
import { testCases } from './harness.js';

describe('gradients of activations', () => testCases(activationCases));
