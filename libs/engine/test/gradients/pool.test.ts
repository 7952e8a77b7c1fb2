import { describe } from 'vitest';
import { averagePoolCases, globalPoolCases, maxPoolCases, reduceCases } from './cases/pool.js';
import { testCases } from './harness.js';

describe('gradients of MaxPool', () => testCases(maxPoolCases));
describe('gradients of AveragePool', () => testCases(averagePoolCases));
describe('gradients of global pools', () => testCases(globalPoolCases));
describe('gradients of reductions', () => testCases(reduceCases));
