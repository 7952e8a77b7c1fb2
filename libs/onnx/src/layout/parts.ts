/**
 * What each axis of a tensor holds, tracked from the image input through the graph: the image
 * index (batch), channels, digits of the image's two spatial axes, token sequences (the patch
 * grid with extra class/register tokens), or something else (unknown). An axis is a list of
 * parts, outermost first: `[N*h, T, d]` inside an attention is `[[batch, channel(h)],
 * [tokens], [channel(d)]]`; a Swin window view `[N, 8, 7, 8, 7, C]` holds each spatial axis as
 * two digits.
 */
export type Part = BatchPart | ChannelPart | SpacePart | TokenPart | UnknownPart;

export interface BatchPart {
  kind: 'batch';
}
export interface ChannelPart {
  kind: 'channel';
  size: number;
}
/**
 * One digit of spatial axis `axis` ('y' rows, 'x' columns) at a resolution of `total` cells:
 * the part's index is `floor(position / inner) % size`. A whole axis is `inner 1, size total`.
 */
export interface SpacePart {
  kind: 'space';
  axis: 'y' | 'x';
  size: number;
  inner: number;
  total: number;
  /** Cells of padding (before, after) included in `total`: a padded map is not the image's. */
  pad?: [number, number];
}
/** A token sequence: `prefix` extra tokens, the grid (whole spatial axes, row-major), `suffix`. */
export interface TokenPart {
  kind: 'tokens';
  size: number;
  prefix: number;
  suffix: number;
  grid: SpacePart[];
}
export interface UnknownPart {
  kind: 'unknown';
  size: number;
}

/** Per axis, its parts. An axis of size 1 may have no parts. */
export type Layout = Part[][];

/** Static size of a part (the batch counts 1: its size is the batch's). */
export function partSize(p: Part): number {
  return p.kind === 'batch' ? 1 : p.size;
}

export const unknown = (size: number): UnknownPart => ({ kind: 'unknown', size });
export const channel = (size: number): ChannelPart => ({ kind: 'channel', size });
export const wholeAxis = (axis: 'y' | 'x', size: number): SpacePart => ({
  kind: 'space',
  axis,
  size,
  inner: 1,
  total: size,
});

export function isWhole(p: Part): p is SpacePart {
  return p.kind === 'space' && p.inner === 1 && p.size === p.total;
}

/** An axis of unknown content (parts lost), keeping the batch where it was alone. */
export function unknownAxis(parts: Part[], size: number): Part[] {
  if (parts.length === 1 && parts[0].kind === 'batch') return parts;
  return size === 1 ? [] : [unknown(size)];
}

/** Splits a part into an outer part of size `outer` and the rest, or undefined. */
function split(p: Part, outer: number): [Part, Part] | undefined {
  const size = partSize(p);
  if (p.kind === 'batch' || size % outer !== 0) return undefined;
  const inner = size / outer;
  switch (p.kind) {
    case 'channel':
      return [channel(outer), channel(inner)];
    case 'space':
      return [
        { ...p, size: outer, inner: p.inner * inner },
        { ...p, size: inner },
      ];
    default:
      return [unknown(outer), unknown(inner)];
  }
}

/** One dim of a tensor: its size at batch 1 and whether it grows with the batch. */
export interface AxisDim {
  size: number;
  batch: boolean;
}

/**
 * Parts of each output axis of a reshape (Reshape, Flatten, Squeeze, Unsqueeze), by matching
 * the input's parts against the output dims in order: parts are merged into an axis, or split
 * where an output dim cuts one. Undefined when the sizes do not line up (the batch moved).
 */
export function reshapeParts(input: Layout, out: AxisDim[]): Layout | undefined {
  const queue: Part[] = input.flat().filter((p) => p.kind === 'batch' || partSize(p) !== 1);
  const result: Layout = [];
  for (const d of out) {
    const parts: Part[] = [];
    let need = d.size;
    let needBatch = d.batch;
    while (need > 1 || needBatch) {
      const p = queue.shift();
      if (!p) return undefined;
      if (p.kind === 'batch') {
        if (!needBatch) return undefined;
        parts.push(p);
        needBatch = false;
        continue;
      }
      const size = partSize(p);
      if (size <= need && need % size === 0) {
        parts.push(p);
        need /= size;
        continue;
      }
      const cut = split(p, need);
      if (!cut) return undefined;
      parts.push(cut[0]);
      queue.unshift(cut[1]);
      need = 1;
    }
    result.push(mergeDigits(parts));
  }
  if (queue.some((p) => p.kind === 'batch' || partSize(p) !== 1)) return undefined;
  return result;
}

/** Merges neighbouring digits of one spatial axis (outer, then inner) into one part. */
export function mergeDigits(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (
      prev?.kind === 'space' &&
      p.kind === 'space' &&
      prev.axis === p.axis &&
      prev.total === p.total &&
      prev.inner === p.inner * p.size
    ) {
      out[out.length - 1] = { ...p, size: prev.size * p.size };
    } else if (prev?.kind === 'channel' && p.kind === 'channel') {
      out[out.length - 1] = channel(prev.size * p.size);
    } else {
      out.push(p);
    }
  }
  return out;
}
