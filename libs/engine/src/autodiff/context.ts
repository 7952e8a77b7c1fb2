import type { GraphBuilder, NodeProto } from '@camflow/onnx';

/**
 * Static facts a gradient rule may use. Shapes come from a probe run at two batch sizes:
 * a dimension that changes with the batch is -1, every other dimension is exact.
 */
export interface RuleContext {
  readonly b: GraphBuilder;
  readonly opset: number;
  /** Shape of a tensor (-1 for batch-dependent dims). */
  shape(tensor: string): number[];
  /** Values of a constant input (initializer or Constant node), if it is one. */
  constant(tensor: string): number[] | undefined;
}

/** Gradients of a node's inputs, given the gradients of its outputs (undefined = zero). */
export type GradRule = (
  node: NodeProto,
  ctx: RuleContext,
  dOut: (string | undefined)[],
  needs: boolean[],
) => (string | undefined)[];

/** A rule cannot apply to this particular node (attribute or shape it does not handle). */
export class RuleLimitError extends Error {
  override name = 'RuleLimitError';
}
