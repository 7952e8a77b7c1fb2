import type { GraphIndex } from '../graph.js';
import { type AxisDim, channel, isWhole, type Layout, type Part, wholeAxis } from './parts.js';
import { type NodeFacts, propagateNode } from './propagate.js';

export { type AxisDim, type Layout, type Part, reshapeParts } from './parts.js';
export type { NodeFacts } from './propagate.js';
export { type CamView, camView, LayoutError, type NamedLayout, namedLayout } from './view.js';

/** How the image input holds its axes. */
export type InputLayout = 'nchw' | 'nhwc';

const WINDOWED = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool']);

function inputParts(kind: InputLayout, dims: AxisDim[]): Layout | undefined {
  const s = dims.map((d) => d.size);
  const batch: Part[] = [{ kind: 'batch' }];
  if (dims.length === 3) return [batch, [wholeAxis('y', s[1])], [wholeAxis('x', s[2])]];
  if (dims.length !== 4) return undefined;
  return kind === 'nchw'
    ? [batch, [channel(s[1])], [wholeAxis('y', s[2])], [wholeAxis('x', s[3])]]
    : [batch, [wholeAxis('y', s[1])], [wholeAxis('x', s[2])], [channel(s[3])]];
}

/**
 * The image input's layout, read from the graph: the hypothesis (NCHW or NHWC) under which the
 * first convolution or pooling sees [batch, channels, rows, columns] (tf2onnx's NHWC inputs go
 * through a Transpose first). Without one, channels of 1, 3 or 4 on one side decide.
 */
export function inferInputLayout(
  index: GraphIndex,
  input: string,
  facts: NodeFacts,
): InputLayout | undefined {
  const dims = facts.dims(input);
  if (!dims) return undefined;
  if (dims.length === 3) return 'nchw';
  for (const kind of ['nchw', 'nhwc'] as const) {
    const verdict = firstWindow(index, input, kind, facts);
    if (verdict !== undefined) {
      if (verdict) return kind;
      continue;
    }
    break;
  }
  if (dims.length !== 4) return undefined;
  const small = (d: AxisDim) => [1, 3, 4].includes(d.size);
  if (small(dims[1]) && !small(dims[3])) return 'nchw';
  if (small(dims[3]) && !small(dims[1])) return 'nhwc';
  return undefined;
}

/** true/false: whether the first window op sees NCHW under `kind`; undefined: no window op. */
function firstWindow(
  index: GraphIndex,
  input: string,
  kind: InputLayout,
  facts: NodeFacts,
): boolean | undefined {
  const start = inputParts(kind, facts.dims(input) ?? []);
  if (!start) return undefined;
  const layouts = new Map<string, Layout | undefined>([[input, start]]);
  for (const node of index.nodes) {
    const ins = (node.input ?? []).map((i) => (i ? layouts.get(i) : undefined));
    if (ins.every((l) => l === undefined)) continue;
    if (WINDOWED.has(node.opType ?? '') && ins[0]) {
      const x = ins[0];
      return (
        x.length === 4 &&
        x[1].every((p) => p.kind === 'channel') &&
        [x[2], x[3]].every((a) => a.length === 1 && isWhole(a[0]))
      );
    }
    propagateNode(node, ins, facts).forEach((l, k) => {
      const o = (node.output ?? [])[k];
      if (o) layouts.set(o, l);
    });
  }
  return undefined;
}

/**
 * Layouts of `tensors`, derived from the image input (in `inputLayout`) through every node on the
 * way. Undefined for a tensor that does not depend on the image.
 */
export function tensorLayouts(
  index: GraphIndex,
  input: string,
  inputLayout: InputLayout | undefined,
  facts: NodeFacts,
  tensors: string[],
): Map<string, Layout | undefined> {
  const dims = facts.dims(input) ?? [];
  const start =
    (inputLayout && inputParts(inputLayout, dims)) ??
    dims.map((d, a) =>
      a === 0
        ? [{ kind: 'batch' } as Part]
        : d.size === 1
          ? []
          : [{ kind: 'unknown', size: d.size } as Part],
    );
  const needed = index.ancestors(tensors);
  const layouts = new Map<string, Layout | undefined>([[input, start]]);
  for (const node of index.nodes) {
    if (!(node.output ?? []).some((o) => o && needed.has(o))) continue;
    const ins = (node.input ?? []).map((i) => (i ? layouts.get(i) : undefined));
    propagateNode(node, ins, facts).forEach((l, k) => {
      const o = (node.output ?? [])[k];
      if (o) layouts.set(o, l);
    });
  }
  return new Map(tensors.map((t) => [t, layouts.get(t)]));
}
