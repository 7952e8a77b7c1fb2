import { attrString } from '@camflow/onnx';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';

/** An Einsum equation with `...` spelled out as letters and the output made explicit. */
interface Equation {
  inputs: string[];
  output: string;
}

const SPARE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Parses `equation` for operands of the given ranks (implicit outputs, ellipses). */
export function parseEinsum(equation: string, ranks: number[]): Equation {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.length !== ranks.length)
    throw new RuleLimitError('an Einsum with the wrong operand count');
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const spare = [...SPARE, ...'abcdefghijklmnopqrstuvwxyz'].filter((c) => !used.has(c));
  let ellipsisRank = 0;
  terms.forEach((t, k) => {
    if (t.includes('...')) ellipsisRank = Math.max(ellipsisRank, ranks[k] - (t.length - 3));
  });
  const ell = spare.slice(0, ellipsisRank).join('');
  const expand = (t: string, rank: number) =>
    t.includes('...') ? t.replace('...', ell.slice(ellipsisRank - (rank - (t.length - 3)))) : t;
  const inputs = terms.map((t, k) => expand(t, ranks[k]));
  let output: string;
  if (rhs !== undefined) {
    output = rhs.replace('...', ell);
  } else {
    // Implicit output: the ellipsis letters, then letters used once, in alphabetical order.
    const counts = new Map<string, number>();
    for (const c of inputs.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
    const once = [...counts].filter(([c, n]) => n === 1 && !ell.includes(c)).map(([c]) => c);
    output = ell + once.sort().join('');
  }
  return { inputs, output };
}

/**
 * Einsum (the contractions attention and bilinear heads use): the gradient of operand k is the
 * Einsum of dY with the other operands into operand k's subscripts. Letters only operand k
 * has (summed away on its own) are broadcast back with Expand. Repeated letters within one
 * operand (diagonals) and broadcast ellipsis dims are not handled.
 */
export const einsum: GradRule = (node, ctx, [dy], needs) => {
  const ins = node.input ?? [];
  const out = needs.map(() => undefined as string | undefined);
  if (!dy) return out;
  const shapes = ins.map((t) => ctx.shape(t));
  const { inputs, output } = parseEinsum(
    attrString(node, 'equation', ''),
    shapes.map((s) => s.length),
  );
  for (const t of inputs) {
    if (new Set(t).size !== t.length)
      throw new RuleLimitError('an Einsum with a repeated subscript');
  }
  checkSizes(inputs, output, shapes, ctx.shape((node.output ?? [])[0]));
  ins.forEach((x, k) => {
    if (!needs[k]) return;
    out[k] = operandGradient(ctx, { inputs, output }, k, ins, dy, x);
  });
  return out;
};

/** Every letter must have one size (no broadcasting of size-1 dims against larger ones). */
function checkSizes(inputs: string[], output: string, shapes: number[][], yShape: number[]) {
  const size = new Map<string, number>();
  const see = (c: string, d: number) => {
    const prev = size.get(c);
    if (prev !== undefined && prev !== d) throw new RuleLimitError('an Einsum that broadcasts');
    size.set(c, d);
  };
  inputs.forEach((t, k) => {
    for (let i = 0; i < t.length; i++) see(t[i], shapes[k][i]);
  });
  for (let i = 0; i < output.length; i++) see(output[i], yShape[i]);
}

function operandGradient(
  ctx: RuleContext,
  eq: Equation,
  k: number,
  ins: string[],
  dy: string,
  x: string,
): string {
  const b = ctx.b;
  const target = eq.inputs[k];
  const others = eq.inputs.filter((_, i) => i !== k);
  const available = new Set([...eq.output, ...others.join('')]);
  const reachable = [...target].filter((c) => available.has(c)).join('');
  const operands = [dy, ...ins.filter((_, i) => i !== k)];
  let g = b.node('Einsum', operands, {
    equation: `${[eq.output, ...others].join(',')}->${reachable}`,
  });
  if (reachable.length < target.length) {
    // Letters summed within operand k alone: dY reaches every element along them equally.
    const missing = [...target].map((c, i) => (available.has(c) ? -1 : i)).filter((i) => i >= 0);
    g = b.node('Expand', [b.unsqueeze(g, missing), b.node('Shape', [x])]);
  }
  return g;
}
