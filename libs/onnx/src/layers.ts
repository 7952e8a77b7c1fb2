import type { GraphIndex } from './graph.js';
import type { NodeProto } from './proto.js';

/** A resolved layer: the tensor a hook attaches to. */
export interface LayerRef {
  /** What the user asked for, normalised (`resnet_blocks[-1]` -> `resnet_blocks.4`). */
  name: string;
  /** The tensor whose value is the layer's output. */
  tensor: string;
  /** The node producing that tensor (undefined for a graph input). */
  node?: string;
}

export class UnknownLayerError extends Error {
  override name = 'UnknownLayerError';
  constructor(
    readonly layer: string,
    readonly suggestions: string[],
  ) {
    super(
      `unknown layer "${layer}"` +
        (suggestions.length > 0
          ? `; close matches: ${suggestions.join(', ')}`
          : '; the model has no named module scopes'),
    );
  }
}

/**
 * Module scopes of a node name, as full module paths. PyTorch writes one segment per module
 * level, each the module's name from its last non-numeric part on:
 * `/features/features.17/conv/conv.2/Conv` is inside `features`, `features.17`,
 * `features.17.conv` and `features.17.conv.2`; a module called twice gets `_1` on its later
 * scopes (`relu_1`). The last segment is the op, not a scope.
 */
export function nodeScopes(nodeName: string): string[] {
  const segs = nodeName.split('/').filter((s) => s.length > 0);
  segs.pop();
  const scopes: string[] = [];
  let full = '';
  let prev = '';
  for (const s of segs) {
    full =
      prev && s.startsWith(`${prev}.`) ? full + s.slice(prev.length) : full ? `${full}.${s}` : s;
    prev = s;
    scopes.push(full);
  }
  return scopes;
}

/**
 * Looser names for a node's scopes, tried when no full path matches: single segments
 * (tf2onnx's `model/conv5_block3_out/Relu` is in `conv5_block3_out`), slash-joined prefixes,
 * and module paths without the repeated-call suffix (`relu_1` -> `relu`).
 */
export function nodeScopeAliases(nodeName: string): string[] {
  const segs = nodeName.split('/').filter((s) => s.length > 0);
  segs.pop();
  const out = new Set<string>();
  let joined = '';
  for (const s of segs) {
    out.add(s);
    joined = joined ? `${joined}/${s}` : s;
    out.add(joined);
  }
  for (const full of nodeScopes(nodeName)) out.add(full.replace(/_\d+$/, ''));
  return [...out];
}

/** Every module path that appears in node names, in first-appearance order. */
export function modulePaths(index: GraphIndex): string[] {
  const seen = new Set<string>();
  for (const n of index.nodes) for (const s of nodeScopes(n.name ?? '')) seen.add(s);
  return [...seen];
}

/** `a.b[-1]` / `a.b[2]` -> `a.b.<index>` using the children that exist in the graph. */
function normaliseIndexing(layer: string, paths: string[]): string {
  return layer.replace(/^(.*?)\[(-?\d+)\]/, (_m, base: string, idx: string) => {
    const prefix = `${base}.`;
    const children = [
      ...new Set(
        paths
          .filter((p) => p.startsWith(prefix))
          .map((p) => p.slice(prefix.length).split('.')[0])
          .filter((c) => /^\d+$/.test(c))
          .map(Number),
      ),
    ].sort((a, b) => a - b);
    const i = Number(idx);
    const child = i < 0 ? children[children.length + i] : children[i];
    return child === undefined ? `${base}[${idx}]` : `${base}.${child}`;
  });
}

type Membership = (n: NodeProto) => boolean;

function membership(scope: string, scopesOf: (name: string) => string[]): Membership {
  return (n) => scopesOf(n.name ?? '').includes(scope);
}

/** The output of a module scope: its last tensor that is used outside the scope. */
function scopeOutput(index: GraphIndex, inScope: Membership): NodeProto | undefined {
  const members = index.nodes.filter(inScope);
  let best: NodeProto | undefined;
  for (const n of members) {
    if (n.opType === 'Constant') continue;
    const escapes = (n.output ?? []).some(
      (o) => index.outputs.includes(o) || (index.consumers.get(o) ?? []).some((c) => !inScope(c)),
    );
    if (escapes) best = n;
  }
  return best;
}

function escapingOutput(index: GraphIndex, node: NodeProto, inScope: Membership): string {
  const outs = node.output ?? [];
  return (
    outs.find(
      (o) => index.outputs.includes(o) || (index.consumers.get(o) ?? []).some((c) => !inScope(c)),
    ) ?? outs[0]
  );
}

/**
 * Resolves a user's layer name: a PyTorch module path (`layer4`, `features.18`,
 * `resnet_blocks[-1]`), a tf2onnx scope (`conv5_block3_out`), an ONNX node name, or a tensor name.
 */
export function resolveLayer(index: GraphIndex, layer: string): LayerRef {
  const wanted = layer.trim();
  const byNode = index.nodes.find((n) => n.name === wanted);
  if (byNode) return { name: wanted, tensor: (byNode.output ?? [])[0], node: wanted };
  for (const cand of [wanted, `${wanted}:0`]) {
    const p = index.producer.get(cand);
    if (p) return { name: wanted, tensor: cand, node: p.name ?? undefined };
    if (index.inputs.includes(cand)) return { name: wanted, tensor: cand };
  }
  const paths = modulePaths(index);
  const scope = normaliseIndexing(wanted.replace(/^model\./, ''), paths);
  for (const scopesOf of [nodeScopes, nodeScopeAliases]) {
    for (const s of new Set([scope, wanted])) {
      const inScope = membership(s, scopesOf);
      const node = scopeOutput(index, inScope);
      if (node)
        return {
          name: s,
          tensor: escapingOutput(index, node, inScope),
          node: node.name ?? undefined,
        };
    }
  }
  throw new UnknownLayerError(wanted, closeMatches(wanted, paths));
}

/** Names most similar to `word` (edit distance), for "did you mean" messages. */
export function closeMatches(word: string, candidates: string[], limit = 5): string[] {
  return candidates
    .map((c) => ({ c, d: editDistance(word.toLowerCase(), c.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.c.length - b.c.length)
    .slice(0, limit)
    .map((x) => x.c);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
