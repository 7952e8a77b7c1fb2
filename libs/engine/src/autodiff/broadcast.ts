import type { RuleContext } from './context.js';

/**
 * Sums a gradient computed at the broadcast output shape back to an operand's shape (numpy
 * rules, right-aligned): leading extra axes are summed away, axes where the operand is 1 are
 * summed with keepdims.
 */
export function unbroadcast(
  ctx: RuleContext,
  grad: string,
  operand: number[],
  out: number[],
): string {
  const extra = out.length - operand.length;
  const keepAxes: number[] = [];
  operand.forEach((d, i) => {
    if (d === 1 && out[i + extra] !== 1) keepAxes.push(i + extra);
  });
  let g = grad;
  if (keepAxes.length > 0) g = ctx.b.reduceSum(g, keepAxes, true);
  if (extra > 0)
    g = ctx.b.reduceSum(
      g,
      Array.from({ length: extra }, (_, i) => i),
      false,
    );
  return g;
}

/** Normalises a possibly negative axis. */
export function axis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}
