import type { GraphIndex, NodeProto } from '@camflow/onnx';
import { UnsupportedOpError } from '../errors.js';
import { type GradRule, type RuleContext, RuleLimitError } from './context.js';
import { gradRules, nonDifferentiableOps } from './rules/index.js';

export interface DifferentiateRequest {
  /** The tensor whose gradient seeds the backward pass (the score). */
  y: string;
  /** The seed gradient, with y's shape. */
  dy: string;
  /** Tensors to differentiate y with respect to (the hooked layers). */
  wrt: string[];
  /** Tensors that carry gradients: float tensors (from the probe). Others are constants. */
  differentiable: (tensor: string) => boolean;
  /** For error messages. */
  layerName: string;
  /** Rules that replace the default ones for some ops (guided backpropagation's ReLU). */
  rules?: Readonly<Record<string, GradRule>>;
}

/**
 * Reverse-mode differentiation over the ONNX graph, emitted as ONNX nodes. Only the ops that lie
 * on a path from a hooked tensor to y are visited: tensors below the hook (skip connections
 * included) are constants, so no work is done under the hooked layer.
 */
export function differentiate(
  index: GraphIndex,
  ctx: RuleContext,
  req: DifferentiateRequest,
): Map<string, string> {
  const down = carriers(index, req);
  const up = index.ancestors([req.y]);
  const onPath = (t: string) => down.has(t) && up.has(t) && req.differentiable(t);
  const nodes = index.nodes.filter(
    (n) =>
      (n.output ?? []).some((o) => o && onPath(o)) && (n.input ?? []).some((i) => i && onPath(i)),
  );

  const contributions = new Map<string, string[]>([[req.y, [req.dy]]]);
  const total = (t: string): string | undefined => {
    const parts = contributions.get(t);
    if (!parts || parts.length === 0) return undefined;
    if (parts.length > 1) contributions.set(t, [ctx.b.node('Sum', parts)]);
    return (contributions.get(t) as string[])[0];
  };

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    const dOut = (node.output ?? []).map((o) => (o ? total(o) : undefined));
    if (dOut.every((d) => d === undefined)) continue;
    const needs = (node.input ?? []).map((i) => Boolean(i) && onPath(i));
    const grads = applyRule(node, ctx, dOut, needs, req.layerName, req.rules);
    (node.input ?? []).forEach((input, i) => {
      const g = grads[i];
      if (!needs[i] || !g) return;
      const list = contributions.get(input);
      if (list) list.push(g);
      else contributions.set(input, [g]);
    });
  }

  const result = new Map<string, string>();
  for (const t of req.wrt) {
    const g = total(t);
    if (g) result.set(t, g);
  }
  return result;
}

/**
 * Tensors a gradient can flow into from the hooked tensors: float outputs of nodes with such an
 * input, except nodes whose outputs carry no gradient (Shape, comparisons, Floor, ...).
 */
function carriers(index: GraphIndex, req: DifferentiateRequest): Set<string> {
  const seen = new Set<string>(req.wrt);
  for (const n of index.nodes) {
    const op = n.opType ?? '';
    if ((!n.domain || n.domain === 'ai.onnx') && nonDifferentiableOps.has(op)) continue;
    if (!(n.input ?? []).some((i) => i && seen.has(i))) continue;
    for (const o of n.output ?? []) if (o && req.differentiable(o)) seen.add(o);
  }
  return seen;
}

function applyRule(
  node: NodeProto,
  ctx: RuleContext,
  dOut: (string | undefined)[],
  needs: boolean[],
  layer: string,
  overrides?: Readonly<Record<string, GradRule>>,
) {
  const op = node.opType ?? '';
  const rule =
    node.domain && node.domain !== 'ai.onnx' ? undefined : (overrides?.[op] ?? gradRules[op]);
  const where = node.name || (node.output ?? [])[0] || op;
  if (!rule)
    throw new UnsupportedOpError(
      node.domain ? `${node.domain}.${op}` : op,
      where,
      layer,
      'no gradient rule',
    );
  try {
    return rule(node, ctx, dOut, needs);
  } catch (err) {
    if (err instanceof RuleLimitError) throw new UnsupportedOpError(op, where, layer, err.message);
    throw err;
  }
}
