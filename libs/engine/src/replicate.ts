import type { GraphBuilder, GraphIndex, NodeProto } from '@camflow/onnx';
import { CompileError } from './errors.js';
import type { TensorFacts } from './probe.js';

/** The model's head (from a layer to the score) recomputed on K copies of every image. */
export interface Replica {
  /** The layer's tensor repeated: [N*K, ...], image-major (image n's copies are n*K .. n*K+K-1). */
  from: string;
  /** The score tensor computed from the copies. */
  y: string;
  /** Replica tensor -> the model tensor it copies (for shape facts). */
  original: Map<string, string>;
}

/**
 * Appends a copy of every node between `from` and `y` that reads the layer's tensor repeated K
 * times along the batch (and every other per-image tensor it needs, e.g. skip connections from
 * below the layer, repeated the same way). The K copies can then be differentiated for K
 * different targets in one backward pass: the head is usually small next to the body, which
 * runs once. Tensors whose batch is not their first axis cannot be repeated (CompileError).
 */
export function replicateHead(
  b: GraphBuilder,
  index: GraphIndex,
  facts: (t: string) => TensorFacts | undefined,
  opts: {
    from: string;
    y: string;
    copies: number;
    /** Rewrites a tensor's copies as they are made (the layer's, for ablation): [N*K, ...] in, out. */
    transform?: { tensor: string; fn: (copies: string) => string };
  },
): Replica {
  const down = index.descendants([opts.from]);
  const up = index.ancestors([opts.y]);
  // Nodes after the layer (reading a tensor computed from it) on the way to the score.
  const region = index.nodes.filter(
    (n) =>
      (n.input ?? []).some((i) => i && down.has(i)) &&
      (n.output ?? []).some((o) => o && down.has(o) && up.has(o)),
  );
  const rename = new Map<string, string>();
  const original = new Map<string, string>();
  const repeated = (t: string): string => {
    let r = rename.get(t);
    if (!r) {
      r = repeatBatch(b, t, facts(t), opts.copies);
      rename.set(t, r);
      original.set(r, t);
    }
    return r;
  };
  const transformed = (t: string, r: string) => {
    if (opts.transform?.tensor !== t) return;
    const x = opts.transform.fn(r);
    rename.set(t, x);
    original.set(x, t);
  };
  transformed(opts.from, repeated(opts.from));
  for (const n of region) {
    const input = (n.input ?? []).map((i) => {
      if (!i) return i;
      if (rename.has(i)) return rename.get(i) as string;
      return facts(i)?.shape[0] === -1 ? repeated(i) : i;
    });
    const output = (n.output ?? []).map((o) => {
      if (!o) return o;
      const r = b.fresh('replica');
      rename.set(o, r);
      original.set(r, o);
      return r;
    });
    const copy: NodeProto = {
      opType: n.opType,
      domain: n.domain,
      name: b.fresh(`${n.opType}_replica`),
      input,
      output,
      attribute: n.attribute,
    };
    b.graph.node = [...(b.graph.node ?? []), copy];
    (n.output ?? []).forEach((o, k) => {
      if (o) transformed(o, output[k]);
    });
  }
  const y = rename.get(opts.y);
  if (!y) throw new CompileError('the layer has no path to the score');
  return { from: rename.get(opts.from) as string, y, original };
}

/** [N, ...] -> [N*K, ...], each image's row repeated K times in a row. */
function repeatBatch(
  b: GraphBuilder,
  t: string,
  f: TensorFacts | undefined,
  copies: number,
): string {
  if (!f || f.shape.slice(1).some((d) => d === -1)) {
    throw new CompileError(`tensor "${t}" has its batch in another axis; it cannot be repeated`);
  }
  const rank = f.shape.length;
  const ones = new Array<number>(rank).fill(1);
  const grown = b.node('Expand', [b.unsqueeze(t, [1]), b.ints([1, copies, ...ones.slice(1)])]);
  const rest = b.slice(b.node('Shape', [t]), [1], [rank], [0]);
  return b.node('Reshape', [grown, b.node('Concat', [b.ints([-1]), rest], { axis: 0 })]);
}
