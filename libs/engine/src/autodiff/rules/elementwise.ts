import type { NodeProto } from '@camflow/onnx';
import { unbroadcast } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';

function io(node: NodeProto) {
  return { x: node.input ?? [], y: (node.output ?? [])[0] };
}

/** Gradient of one operand of a broadcasting binary op, from the gradient at the output shape. */
function toOperand(ctx: RuleContext, node: NodeProto, k: number, g: string): string {
  const { x, y } = io(node);
  return unbroadcast(ctx, g, ctx.shape(x[k]), ctx.shape(y));
}

const add: GradRule = (node, ctx, [dy], needs) =>
  needs.map((n, k) => (n && dy ? toOperand(ctx, node, k, dy) : undefined));

const sub: GradRule = (node, ctx, [dy], needs) => [
  needs[0] && dy ? toOperand(ctx, node, 0, dy) : undefined,
  needs[1] && dy ? toOperand(ctx, node, 1, ctx.b.node('Neg', [dy])) : undefined,
];

const mul: GradRule = (node, ctx, [dy], needs) => {
  const { x } = io(node);
  return [
    needs[0] && dy ? toOperand(ctx, node, 0, ctx.b.node('Mul', [dy, x[1]])) : undefined,
    needs[1] && dy ? toOperand(ctx, node, 1, ctx.b.node('Mul', [dy, x[0]])) : undefined,
  ];
};

const div: GradRule = (node, ctx, [dy], needs) => {
  const { x, y } = io(node);
  const b = ctx.b;
  return [
    needs[0] && dy ? toOperand(ctx, node, 0, b.node('Div', [dy, x[1]])) : undefined,
    // d(a/b)/db = -a/b^2 = -y/b
    needs[1] && dy
      ? toOperand(ctx, node, 1, b.node('Neg', [b.node('Div', [b.node('Mul', [dy, y]), x[1]])]))
      : undefined,
  ];
};

/** Unary ops whose derivative is a simple function of X and/or Y. */
function unary(local: (ctx: RuleContext, x: string, y: string) => string): GradRule {
  return (node, ctx, [dy], needs) => {
    if (!needs[0] || !dy) return [undefined];
    const { x, y } = io(node);
    return [ctx.b.node('Mul', [dy, local(ctx, x[0], y)])];
  };
}

const neg: GradRule = (_node, ctx, [dy], needs) => [
  needs[0] && dy ? ctx.b.node('Neg', [dy]) : undefined,
];
const exp = unary((_c, _x, y) => y);
const log = unary((c, x) => c.b.node('Reciprocal', [x]));
const reciprocal = unary((c, _x, y) => c.b.node('Neg', [c.b.node('Mul', [y, y])]));
const sqrt = unary((c, _x, y) => c.b.node('Div', [c.b.floats([0.5], []), y]));
const abs = unary((c, x) => c.b.node('Sign', [x]));
// d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
const erf = unary((c, x) =>
  c.b.node('Mul', [
    c.b.floats([2 / Math.sqrt(Math.PI)], []),
    c.b.node('Exp', [c.b.node('Neg', [c.b.node('Mul', [x, x])])]),
  ]),
);

const pow: GradRule = (node, ctx, [dy], needs) => {
  // Only constant-like exponents occur in classifiers (x^2, x^0.5), never learned ones.
  if (needs[1]) throw new RuleLimitError('the exponent depends on the hooked layer');
  if (!needs[0] || !dy) return [undefined, undefined];
  const { x } = io(node);
  const b = ctx.b;
  // d x^p/dx = p x^(p-1)
  const pm1 = b.node('Sub', [x[1], b.floats([1], [])]);
  const local = b.node('Mul', [x[1], b.node('Pow', [x[0], pm1])]);
  return [toOperand(ctx, node, 0, b.node('Mul', [dy, local])), undefined];
};

const sum: GradRule = (node, ctx, [dy], needs) =>
  needs.map((n, k) => (n && dy ? toOperand(ctx, node, k, dy) : undefined));

/** Where(cond, a, b): dY goes to a where cond holds, to b elsewhere; cond carries none. */
const where: GradRule = (node, ctx, [dy], needs) => {
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (!dy) return out;
  const b = ctx.b;
  const cond = (node.input ?? [])[0];
  const zero = b.floats([0], []);
  if (needs[1]) out[1] = toOperand(ctx, node, 1, b.node('Where', [cond, dy, zero]));
  if (needs[2]) out[2] = toOperand(ctx, node, 2, b.node('Where', [cond, zero, dy]));
  return out;
};

/**
 * Max/Min over several broadcast inputs: dY goes to the inputs equal to the result, shared
 * equally among ties (what torch.maximum does for two).
 */
function extremum(kind: 'Max' | 'Min'): GradRule {
  return (node, ctx, [dy], needs) => {
    const ins = node.input ?? [];
    if (!dy) return ins.map(() => undefined);
    const b = ctx.b;
    const y = (node.output ?? [])[0];
    if (ins.length === 1) return [needs[0] ? dy : undefined];
    // x == y as !(x < y) for Max (x <= y everywhere), !(x > y) for Min: any opset.
    const hits = ins.map((x) =>
      b.node('Not', [b.node(kind === 'Max' ? 'Less' : 'Greater', [x, y])]),
    );
    const count = b.node(
      'Sum',
      hits.map((h) => b.node('Cast', [h], { to: 1 })),
    );
    const share = b.node('Div', [dy, count]);
    const zero = b.floats([0], []);
    return ins.map((_, k) =>
      needs[k] ? toOperand(ctx, node, k, b.node('Where', [hits[k], share, zero])) : undefined,
    );
  };
}

/** Mean of several broadcast inputs: dY / n to each. */
const mean: GradRule = (node, ctx, [dy], needs) => {
  const ins = node.input ?? [];
  if (!dy) return ins.map(() => undefined);
  const share = ctx.b.node('Mul', [dy, ctx.b.floats([1 / ins.length], [])]);
  return ins.map((_, k) => (needs[k] ? toOperand(ctx, node, k, share) : undefined));
};

export const elementwiseRules: Record<string, GradRule> = {
  Where: where,
  Max: extremum('Max'),
  Min: extremum('Min'),
  Mean: mean,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Sum: sum,
  Neg: neg,
  Exp: exp,
  Log: log,
  Reciprocal: reciprocal,
  Sqrt: sqrt,
  Abs: abs,
  Erf: erf,
  Pow: pow,
};
