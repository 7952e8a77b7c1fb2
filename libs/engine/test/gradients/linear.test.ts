import { describe } from 'vitest';
import { batchNormCases, convCases, gemmCases, matmulCases } from './cases/linear.js';
import { testCases } from './harness.js';

describe('gradients of Conv', () => testCases(convCases));
describe('gradients of Gemm', () => testCases(gemmCases));
describe('gradients of MatMul', () => testCases(matmulCases));
describe('gradients of BatchNormalization', () => testCases(batchNormCases));
