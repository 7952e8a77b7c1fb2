import type { GradRule } from '../context.js';
import { activationRules } from './activations.js';
import { elementwiseRules } from './elementwise.js';
import { linearRules } from './linear.js';
import { poolRules } from './pool.js';
import { shapeRules } from './shape.js';

/** Every op the engine can differentiate, by ONNX op type (default domain). */
export const gradRules: Readonly<Record<string, GradRule>> = {
  ...elementwiseRules,
  ...activationRules,
  ...shapeRules,
  ...linearRules,
  ...poolRules,
};
