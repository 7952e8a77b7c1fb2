import type { GradRule } from '../context.js';

/**
 * Guided backpropagation (Springenberg et al.): through a ReLU, only positive gradients pass,
 * and only where the input was positive: dx = dy * (x > 0) * (dy > 0). Used for Guided Grad-CAM's
 * gradient to the input; the Grad-CAM part keeps the ordinary rule.
 */
const guidedRelu: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const zero = b.floats([0], []);
  const x = (node.input ?? [])[0];
  const pass = b.node('And', [b.node('Greater', [x, zero]), b.node('Greater', [dy, zero])]);
  return [b.node('Where', [pass, dy, zero])];
};

export const guidedRules: Readonly<Record<string, GradRule>> = { Relu: guidedRelu };
