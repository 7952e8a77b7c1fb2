import { attrFloat, attrInt, attrString, type NodeProto } from '@camflow/onnx';
import { axis, unbroadcast } from '../broadcast.js';
import { type GradRule, type RuleContext, RuleLimitError } from '../context.js';

/** dY where `mask` holds, else 0. */
function gate(ctx: RuleContext, mask: string, dy: string): string {
  return ctx.b.node('Where', [mask, dy, ctx.b.floats([0], [])]);
}

const relu: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const x = (node.input ?? [])[0];
  return [gate(ctx, ctx.b.node('Greater', [x, ctx.b.floats([0], [])]), dy)];
};

const leakyRelu: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const x = (node.input ?? [])[0];
  const alpha = attrFloat(node, 'alpha', 0.01);
  const pos = b.node('Greater', [x, b.floats([0], [])]);
  return [b.node('Where', [pos, dy, b.node('Mul', [dy, b.floats([alpha], [])])])];
};

/** Clip (ReLU6): the gradient passes where min < x < max, as PyTorch's hardtanh does. */
const clip: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined, undefined, undefined];
  if (needs[1] || needs[2]) throw new RuleLimitError('the clip bounds depend on the hooked layer');
  const b = ctx.b;
  const ins = node.input ?? [];
  let lo: string | undefined;
  let hi: string | undefined;
  if (ctx.opset >= 11) {
    lo = ins[1] || undefined;
    hi = ins[2] || undefined;
  } else {
    lo = b.floats([attrFloat(node, 'min', -3.4028234663852886e38)], []);
    hi = b.floats([attrFloat(node, 'max', 3.4028234663852886e38)], []);
  }
  const masks: string[] = [];
  if (lo) masks.push(b.node('Greater', [ins[0], lo]));
  if (hi) masks.push(b.node('Less', [ins[0], hi]));
  if (masks.length === 0) return [dy, undefined, undefined];
  const mask = masks.length === 2 ? b.node('And', masks) : masks[0];
  return [gate(ctx, mask, dy), undefined, undefined];
};

function fromY(local: (ctx: RuleContext, y: string) => string): GradRule {
  return (node, ctx, [dy], needs) => {
    if (!needs[0] || !dy) return [undefined];
    return [ctx.b.node('Mul', [dy, local(ctx, (node.output ?? [])[0])])];
  };
}

// sigmoid' = y (1 - y); tanh' = 1 - y^2
const sigmoid = fromY((c, y) => c.b.node('Mul', [y, c.b.node('Sub', [c.b.floats([1], []), y])]));
const tanh = fromY((c, y) => c.b.node('Sub', [c.b.floats([1], []), c.b.node('Mul', [y, y])]));

/** Softmax's normalised axes: one axis from opset 13, the flattened tail before it. */
function softmaxAxes(node: Parameters<GradRule>[0], ctx: RuleContext): number[] {
  const x = (node.input ?? [])[0];
  const rank = ctx.shape(x).length;
  const a = axis(attrInt(node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
  if (ctx.opset >= 13) return [a];
  return Array.from({ length: rank - a }, (_, i) => a + i);
}

const softmax: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const y = (node.output ?? [])[0];
  // dx = y * (dy - sum(dy * y))
  const s = b.reduceSum(b.node('Mul', [dy, y]), softmaxAxes(node, ctx), true);
  return [b.node('Mul', [y, b.node('Sub', [dy, s])])];
};

const logSoftmax: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const y = (node.output ?? [])[0];
  // dx = dy - exp(y) * sum(dy)
  const s = b.reduceSum(dy, softmaxAxes(node, ctx), true);
  return [b.node('Sub', [dy, b.node('Mul', [b.node('Exp', [y]), s])])];
};

/** HardSigmoid: y = clamp(alpha x + beta, 0, 1). */
const hardSigmoid: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const x = (node.input ?? [])[0];
  const alpha = attrFloat(node, 'alpha', 0.2);
  const beta = attrFloat(node, 'beta', 0.5);
  const t = b.node('Add', [b.node('Mul', [x, b.floats([alpha], [])]), b.floats([beta], [])]);
  const inside = b.node('And', [
    b.node('Greater', [t, b.floats([0], [])]),
    b.node('Less', [t, b.floats([1], [])]),
  ]);
  return [gate(ctx, inside, b.node('Mul', [dy, b.floats([alpha], [])]))];
};

/** HardSwish: y = x * clamp(x/6 + 1/2, 0, 1); y' = 0 (x < -3), x/3 + 1/2 (|x| < 3), 1 (x > 3). */
const hardSwish: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const x = (node.input ?? [])[0];
  const mid = b.node('Add', [b.node('Mul', [x, b.floats([1 / 3], [])]), b.floats([0.5], [])]);
  const upper = b.node('Where', [
    b.node('Greater', [x, b.floats([3], [])]),
    b.floats([1], []),
    mid,
  ]);
  const local = b.node('Where', [
    b.node('Less', [x, b.floats([-3], [])]),
    b.floats([0], []),
    upper,
  ]);
  return [b.node('Mul', [dy, local])];
};

const elu: GradRule = (node, ctx, [dy], needs) => {
  if (!needs[0] || !dy) return [undefined];
  const b = ctx.b;
  const x = (node.input ?? [])[0];
  const y = (node.output ?? [])[0];
  const alpha = attrFloat(node, 'alpha', 1);
  // for x <= 0: y = alpha (e^x - 1), y' = y + alpha
  const neg = b.node('Add', [y, b.floats([alpha], [])]);
  const local = b.node('Where', [
    b.node('Greater', [x, b.floats([0], [])]),
    b.floats([1], []),
    neg,
  ]);
  return [b.node('Mul', [dy, local])];
};

/** dY * local(x), for unary ops whose derivative is a function of their input. */
function fromX(local: (ctx: RuleContext, x: string, node: NodeProto) => string): GradRule {
  return (node, ctx, [dy], needs) => {
    if (!needs[0] || !dy) return [undefined];
    return [ctx.b.node('Mul', [dy, local(ctx, (node.input ?? [])[0], node)])];
  };
}

/**
 * Gelu (opset 20). Exact: y = x Phi(x), y' = Phi(x) + x phi(x). Tanh approximation: y = x/2
 * (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), y' = (1 + t)/2 + x/2 (1 - t^2) u'.
 */
const gelu = fromX((c, x, node) => {
  const b = c.b;
  const f = (v: number) => b.floats([v], []);
  if (attrString(node, 'approximate', 'none') === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    const x2 = b.node('Mul', [x, x]);
    const u = b.node('Mul', [
      b.node('Mul', [x, b.node('Add', [f(1), b.node('Mul', [x2, f(0.044715)])])]),
      f(k),
    ]);
    const t = b.node('Tanh', [u]);
    const du = b.node('Mul', [b.node('Add', [f(1), b.node('Mul', [x2, f(3 * 0.044715)])]), f(k)]);
    const sech2 = b.node('Sub', [f(1), b.node('Mul', [t, t])]);
    return b.node('Add', [
      b.node('Mul', [b.node('Add', [f(1), t]), f(0.5)]),
      b.node('Mul', [b.node('Mul', [b.node('Mul', [x, f(0.5)]), sech2]), du]),
    ]);
  }
  const cdf = b.node('Mul', [
    b.node('Add', [f(1), b.node('Erf', [b.node('Mul', [x, f(Math.SQRT1_2)])])]),
    f(0.5),
  ]);
  const pdf = b.node('Mul', [
    b.node('Exp', [b.node('Mul', [b.node('Mul', [x, x]), f(-0.5)])]),
    f(1 / Math.sqrt(2 * Math.PI)),
  ]);
  return b.node('Add', [cdf, b.node('Mul', [x, pdf])]);
});

/** Softplus: y = log(1 + e^x), y' = sigmoid(x). */
const softplus = fromX((c, x) => c.b.node('Sigmoid', [x]));

/** Mish: y = x tanh(softplus(x)), y' = t + x sigmoid(x) (1 - t^2) with t = tanh(softplus(x)). */
const mish = fromX((c, x) => {
  const b = c.b;
  const t = b.node('Tanh', [b.node('Softplus', [x])]);
  const sech2 = b.node('Sub', [b.floats([1], []), b.node('Mul', [t, t])]);
  return b.node('Add', [t, b.node('Mul', [b.node('Mul', [x, b.node('Sigmoid', [x])]), sech2])]);
});

/** PRelu: y = x (x > 0), slope * x otherwise; the slope broadcasts to x. */
const prelu: GradRule = (node, ctx, [dy], needs) => {
  if (needs[1]) throw new RuleLimitError('a PRelu slope that depends on the hooked layer');
  if (!needs[0] || !dy) return [undefined, undefined];
  const b = ctx.b;
  const [x, slope] = node.input ?? [];
  const pos = b.node('Greater', [x, b.floats([0], [])]);
  const g = b.node('Where', [pos, dy, b.node('Mul', [dy, slope])]);
  // The slope broadcasts to x (unidirectionally), so g has x's shape already.
  return [unbroadcast(ctx, g, ctx.shape(x), ctx.shape(x)), undefined];
};

export const activationRules: Record<string, GradRule> = {
  Gelu: gelu,
  Softplus: softplus,
  Mish: mish,
  PRelu: prelu,
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Elu: elu,
};
