import { attrTensor } from './attributes.js';
import type { GraphProto, NodeProto, TensorProto } from './proto.js';

/** Read-only index over a graph: who produces and who consumes each tensor. */
export class GraphIndex {
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  /** Real inputs: graph inputs that are not initializers. */
  readonly inputs: string[];
  readonly outputs: string[];
  /** Position of each node in topological order. */
  readonly order = new Map<NodeProto, number>();

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.inputs = (graph.input ?? [])
      .map((v) => v.name ?? '')
      .filter((n) => !this.initializers.has(n));
    this.outputs = (graph.output ?? []).map((v) => v.name ?? '');
    this.nodes = topologicalOrder(graph.node ?? []);
    this.nodes.forEach((n, i) => {
      this.order.set(n, i);
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    });
  }

  /** A constant tensor feeding a node: an initializer or a Constant node's value. */
  constantOf(name: string): TensorProto | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const p = this.producer.get(name);
    if (p?.opType === 'Constant') return attrTensor(p, 'value');
    return undefined;
  }

  /** Every tensor reachable forward from `from` (inclusive). */
  descendants(from: Iterable<string>): Set<string> {
    const seen = new Set<string>(from);
    for (const n of this.nodes) {
      if ((n.input ?? []).some((i) => i && seen.has(i))) {
        for (const o of n.output ?? []) if (o) seen.add(o);
      }
    }
    return seen;
  }

  /** Every tensor from which one of `to` can be reached (inclusive). */
  ancestors(to: Iterable<string>): Set<string> {
    const seen = new Set<string>(to);
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if ((n.output ?? []).some((o) => o && seen.has(o))) {
        for (const i of n.input ?? []) if (i) seen.add(i);
      }
    }
    return seen;
  }
}

/** Kahn's algorithm; keeps the file's order among ready nodes (exports are usually sorted). */
export function topologicalOrder(nodes: readonly NodeProto[]): NodeProto[] {
  const produced = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) produced.set(o, i);
  });
  const indegree = nodes.map(
    (n) =>
      new Set((n.input ?? []).filter((i) => i && produced.has(i)).map((i) => produced.get(i))).size,
  );
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const deps = new Set(
      (n.input ?? []).filter((x) => x && produced.has(x)).map((x) => produced.get(x) as number),
    );
    for (const d of deps) dependents[d].push(i);
  });
  const ready: number[] = [];
  indegree.forEach((d, i) => {
    if (d === 0) ready.push(i);
  });
  const out: NodeProto[] = [];
  // A simple queue in file order is enough: graphs are small (thousands of nodes).
  ready.sort((a, b) => a - b);
  while (ready.length > 0) {
    const i = ready.shift() as number;
    out.push(nodes[i]);
    for (const j of dependents[i]) {
      indegree[j] -= 1;
      if (indegree[j] === 0) {
        const pos = ready.findIndex((r) => r > j);
        if (pos < 0) ready.push(j);
        else ready.splice(pos, 0, j);
      }
    }
  }
  if (out.length !== nodes.length) throw new Error('the graph has a cycle');
  return out;
}
