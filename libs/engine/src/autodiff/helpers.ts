import type { RuleContext } from './context.js';

/**
 * The run-time shape of `x` with some axes replaced: `parts` lists, in order, either an axis
 * range of `x`'s shape to copy ([from, to)) or constant sizes. Builds `Concat(Slice(Shape(x)),
 * const, ...)`, so batch-dependent dims need no static value.
 */
export function shapeFrom(
  ctx: RuleContext,
  x: string,
  parts: ({ from: number; to: number } | number[])[],
): string {
  const b = ctx.b;
  const shape = b.node('Shape', [x]);
  const pieces = parts
    .filter((p) => (Array.isArray(p) ? p.length > 0 : p.to > p.from))
    .map((p) => (Array.isArray(p) ? b.ints(p) : b.slice(shape, [p.from], [p.to], [0])));
  return pieces.length === 1 ? pieces[0] : b.node('Concat', pieces, { axis: 0 });
}

/** A permutation that moves axis `a` of a rank-`r` tensor to the end, and its inverse. */
export function moveLast(a: number, r: number): { perm: number[]; inverse: number[] } {
  const perm = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== a), a];
  const inverse = new Array<number>(r);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return { perm, inverse };
}

/**
 * Contracts axis `a` of `g` (size m) with a constant [m, n] matrix: out[..., j, ...] =
 * sum_i g[..., i, ...] * matrix[i, j]. The adjoint of any op that picks or mixes elements along
 * one axis with fixed weights (Gather with constant indices, resampling).
 */
export function contractAxis(ctx: RuleContext, g: string, a: number, rank: number, matrix: string) {
  const b = ctx.b;
  if (a === rank - 1) return b.node('MatMul', [g, matrix]);
  const { perm, inverse } = moveLast(a, rank);
  const t = b.node('MatMul', [b.node('Transpose', [g], { perm }), matrix]);
  return b.node('Transpose', [t], { perm: inverse });
}

/** `x == 0` for a tensor known to be >= 0, at any opset (Equal takes floats from opset 11). */
export function isZero(ctx: RuleContext, x: string): string {
  const b = ctx.b;
  return b.node('Not', [b.node('Greater', [x, b.floats([0], [])])]);
}
