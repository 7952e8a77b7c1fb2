import { toNumber, toNumbers } from './ints.js';
import { type AttributeProto, type NodeProto, onnx } from './proto.js';

const A = onnx.AttributeProto.AttributeType;

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** Integer attribute, or the default when absent. */
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = find(node, name);
  return a ? toNumber(a.i) : dflt;
}

/** Float attribute, or the default when absent. */
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = find(node, name);
  return a ? (a.f ?? 0) : dflt;
}

/** Integer-list attribute, or undefined when absent. */
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? toNumbers(a.ints) : undefined;
}

/** String attribute, or the default when absent. */
export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = find(node, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
}

/** Tensor attribute (Constant's `value`), or undefined. */
export function attrTensor(node: NodeProto, name: string) {
  return find(node, name)?.t ?? undefined;
}

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** Builds attributes: integers and integer lists as INT/INTS, `{float}`/`{floats}` as floats. */
export function makeAttributes(attrs: Record<string, AttrValue | undefined>): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (typeof v === 'number') out.push({ name, type: A.INT, i: v });
    else if (typeof v === 'string') out.push({ name, type: A.STRING, s: Buffer.from(v, 'utf8') });
    else if (Array.isArray(v)) out.push({ name, type: A.INTS, ints: v });
    else if ('float' in v) out.push({ name, type: A.FLOAT, f: v.float });
    else out.push({ name, type: A.FLOATS, floats: v.floats });
  }
  return out;
}
