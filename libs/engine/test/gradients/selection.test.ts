import { describe } from 'vitest';
import { selectionCases } from './cases/selection.js';
import { testCases } from './harness.js';

describe('gradients of selection and broadcasting ops', () => testCases(selectionCases));
