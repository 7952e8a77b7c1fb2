import type { GradRule } from '../context.js';
import { activationRules } from './activations.js';
import { elementwiseRules } from './elementwise.js';
import { linearRules } from './linear.js';
import { normalizationRules } from './normalization.js';
import { poolRules } from './pool.js';
import { resizeRules } from './resize.js';
import { shapeRules } from './shape.js';

/** Every op the engine can differentiate, by ONNX op type (default domain). */
export const gradRules: Readonly<Record<string, GradRule>> = {
  ...elementwiseRules,
  ...activationRules,
  ...shapeRules,
  ...linearRules,
  ...normalizationRules,
  ...poolRules,
  ...resizeRules,
};

/**
 * Ops whose outputs carry no gradient: shapes, comparisons, indices, and piecewise-constant
 * maths (zero derivative almost everywhere). The backward pass stops at them instead of
 * refusing the model.
 */
export const nonDifferentiableOps: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'ConstantOfShape',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'NonZero',
  'Range',
  'ArgMax',
  'ArgMin',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
]);
