import {
  type AxisDim,
  type Layout,
  type Part,
  partSize,
  type SpacePart,
  wholeAxis,
} from './parts.js';

/**
 * How to turn a layer's tensor into the CAM's canonical [N, C, h, w]: crop the extra tokens,
 * split every axis into its parts, move the parts to (batch, channels, rows, columns), merge.
 */
export interface CamView {
  /** 'nchw' needs no change; 'nhwc' is one transpose; 'tokens' a token sequence; else 'general'. */
  layout: 'nchw' | 'nhwc' | 'tokens' | 'general';
  channels: number;
  height: number;
  width: number;
  /** Keep [start, end) of `axis` (the grid tokens). */
  crop?: { axis: number; start: number; end: number };
  /** Shape with every part as its own axis (-1 for the batch); undefined when no split is needed. */
  split?: number[];
  /** Transpose of the split tensor to (batch, channel parts, row parts, column parts). */
  perm?: number[];
  /** Whether a final Reshape to [-1, C, h, w] is needed. */
  merge: boolean;
}

/**
 * No 2-D map: `ambiguous` when the graph does not say what the axes are (a user may name them),
 * `not-spatial` when it says they are not a map (an attention matrix, a pooled vector).
 */
export class LayoutError extends Error {
  override name = 'LayoutError';
  constructor(
    message: string,
    readonly kind: 'ambiguous' | 'not-spatial' = 'not-spatial',
  ) {
    super(message);
  }
}

/** The view of a tensor with this layout, or a LayoutError saying why there is no 2-D map. */
export function camView(layout: Layout, dims: number[]): CamView {
  const flat: { part: Part; axis: number }[] = [];
  layout.forEach((parts, axis) => {
    for (const part of parts) flat.push({ part, axis });
  });
  const batch = flat.filter((p) => p.part.kind === 'batch');
  if (batch.length !== 1 || layout[batch[0].axis].length !== 1) {
    throw new LayoutError('its batch axis mixes the images with other axes (windowed attention?)');
  }
  if (flat.some((p) => p.part.kind === 'unknown')) {
    throw new LayoutError(
      'the graph does not say which of its axes are channels and which are space',
      'ambiguous',
    );
  }
  const tokenAxes = flat.filter((p) => p.part.kind === 'tokens');
  if (tokenAxes.length > 1)
    throw new LayoutError('it holds more than one token axis (an attention map?)');
  let crop: CamView['crop'];
  const exploded: Part[][] = layout.map((parts) => [...parts]);
  if (tokenAxes.length === 1) {
    const { axis } = tokenAxes[0];
    const t = tokenAxes[0].part;
    if (t.kind !== 'tokens' || layout[axis].length !== 1) {
      throw new LayoutError('its token axis is merged with other axes');
    }
    if (t.prefix > 0 || t.suffix > 0) crop = { axis, start: t.prefix, end: t.size - t.suffix };
    exploded[axis] = t.grid;
  }
  const parts = exploded.flatMap((ps, axis) => ps.map((part) => ({ part, axis })));
  const height = spatialExtent(
    parts.map((p) => p.part),
    'y',
  );
  const width = spatialExtent(
    parts.map((p) => p.part),
    'x',
  );
  const order = (axis: 'y' | 'x') =>
    parts
      .map((p, i) => ({ p: p.part, i }))
      .filter((x) => x.p.kind === 'space' && x.p.axis === axis)
      .sort((a, b) => (b.p as SpacePart).inner - (a.p as SpacePart).inner)
      .map((x) => x.i);
  const channelIdx = parts
    .map((p, i) => (p.part.kind === 'channel' ? i : -1))
    .filter((i) => i >= 0);
  const batchIdx = parts.findIndex((p) => p.part.kind === 'batch');
  const perm = [batchIdx, ...channelIdx, ...order('y'), ...order('x')];
  const channels = channelIdx.reduce((a, i) => a * partSize(parts[i].part), 1);
  const splitDims = parts.map((p) => (p.part.kind === 'batch' ? -1 : partSize(p.part)));
  const croppedDims = dims.map((d, a) => (crop && a === crop.axis ? crop.end - crop.start : d));
  const needSplit =
    splitDims.length !== croppedDims.length ||
    splitDims.some((d, a) => d !== -1 && d !== croppedDims[a]);
  const identity = perm.every((p, i) => p === i);
  const merge = splitDims.length !== 4 || channelIdx.length !== 1;
  let name: CamView['layout'] = 'general';
  if (tokenAxes.length === 1) name = 'tokens';
  else if (!needSplit && identity && !merge) name = 'nchw';
  else if (!needSplit && !merge && perm.join() === '0,3,1,2') name = 'nhwc';
  return {
    layout: name,
    channels,
    height,
    width,
    ...(crop && { crop }),
    ...(needSplit && { split: splitDims }),
    ...(!identity && { perm }),
    merge,
  };
}

/** Size of a spatial axis whose digits must all be present exactly once. */
function spatialExtent(parts: Part[], axis: 'y' | 'x'): number {
  const digits = parts
    .filter((p): p is SpacePart => p.kind === 'space' && p.axis === axis)
    .sort((a, b) => a.inner - b.inner);
  if (digits.length === 0)
    throw new LayoutError(`it has no ${axis === 'y' ? 'row' : 'column'} axis`);
  if (digits.some((d) => d.pad && (d.pad[0] > 0 || d.pad[1] > 0))) {
    throw new LayoutError('it includes padding cells, so it is not aligned with the image');
  }
  let inner = 1;
  for (const d of digits) {
    if (d.inner !== inner || d.total !== digits[0].total) {
      throw new LayoutError('its spatial axes appear more than once or in pieces');
    }
    inner *= d.size;
  }
  if (inner !== digits[0].total) throw new LayoutError('it holds only part of a spatial axis');
  return inner;
}

/** The layouts a user can name (`--layout`), for a tensor with these dims. */
export type NamedLayout = 'nchw' | 'nhwc' | 'tokens';

/**
 * A layout the user asserts. `tokens` is [N, T, C] with T = prefix + h * w (+ suffix): the
 * graph's prefix/suffix when it knows them, else the smallest prefix leaving a grid with the
 * input's aspect ratio (`aspect` = H / W), square when unknown.
 */
export function namedLayout(
  name: NamedLayout,
  dims: AxisDim[],
  known?: Layout,
  aspect = 1,
): Layout {
  const sizes = dims.map((d) => d.size);
  const rank = dims.length;
  if (name !== 'tokens' && rank !== 4)
    throw new LayoutError(`--layout ${name} needs a 4-D tensor, it is ${rank}-D`);
  if (name === 'tokens' && rank !== 3)
    throw new LayoutError(`--layout tokens needs a 3-D [N, T, C] tensor, it is ${rank}-D`);
  const batch: Part[] = [{ kind: 'batch' }];
  if (name === 'nchw') {
    return [
      batch,
      [{ kind: 'channel', size: sizes[1] }],
      [wholeAxis('y', sizes[2])],
      [wholeAxis('x', sizes[3])],
    ];
  }
  if (name === 'nhwc') {
    return [
      batch,
      [wholeAxis('y', sizes[1])],
      [wholeAxis('x', sizes[2])],
      [{ kind: 'channel', size: sizes[3] }],
    ];
  }
  const count = sizes[1];
  const seen = known?.[1]?.length === 1 ? known[1][0] : undefined;
  if (seen?.kind === 'tokens') return [batch, [seen], [{ kind: 'channel', size: sizes[2] }]];
  for (let prefix = 0; prefix <= Math.min(16, count - 1); prefix++) {
    const cells = count - prefix;
    const h = Math.round(Math.sqrt(cells * aspect));
    if (h > 0 && cells % h === 0 && Math.abs(h / (cells / h) - aspect) < 1e-9) {
      const grid = [wholeAxis('y', h), wholeAxis('x', cells / h)];
      return [
        batch,
        [{ kind: 'tokens', size: count, prefix, suffix: 0, grid }],
        [{ kind: 'channel', size: sizes[2] }],
      ];
    }
  }
  throw new LayoutError(
    `--layout tokens: ${count} tokens do not form a grid with the input's aspect ratio`,
  );
}
