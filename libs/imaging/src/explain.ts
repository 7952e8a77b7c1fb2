/**
 * The per-image outputs of an explanation in one call: the overlay and the 16-bit heatmap at
 * the original image's resolution, and the statistics, from the original bytes, the geometry
 * `preprocess` returned and the engine's CAM. Also the seed's picture on the model's crop.
 *
 * The CAM field is streamed row by row (`camField`) through the overlay blender, the 16-bit
 * heatmap writer and the statistics: no full-resolution float map, a few table lookups per
 * pixel, one pass per output size; then both images compress in parallel on libuv's thread
 * pool. The statistics are always measured at the image's own resolution; the overlay and the
 * heatmap may be drawn smaller (`overlayMaxSide`, `heatmapMaxSide`): the same field sampled at
 * the smaller image's pixel centres, over the image scaled down by libvips.
 */
import sharp from 'sharp';

import {
  type CamGrid,
  type CamInterpolation,
  camField,
  camToOriginal,
  camToTensor,
  seenRegion,
} from './cammap.js';
import type { ModelCard } from './card.js';
import { type DecodedImage, decodeImage } from './decode.js';
import type { Geometry, Size } from './geometry.js';
import {
  encodePixels,
  Grey16Rows,
  type OverlayOptions,
  OverlayRows,
  renderOverlay,
} from './overlay.js';
import { tensorPixels } from './preprocess.js';
import type { Pixels } from './resample.js';
import { type CamStats, type CamStatsOptions, camStats, statsRows } from './stats.js';

/**
 * The overlay's and the statistics' options; their `view` is always the model's view from the
 * geometry (`seenRegion`), so it is not an option here.
 */
export interface ExplanationOptions
  extends Omit<OverlayOptions, 'view'>,
    Omit<CamStatsOptions, 'view'> {
  /** How the CAM is upsampled; default `bicubic` (the seed). */
  interpolation?: CamInterpolation;
  /**
   * Compute the statistics exactly as `camStats` does on the full-resolution map (a second pass
   * with `Math.log2` per pixel for the entropy, and the map in memory). Default false: the same
   * overlay, heatmap and statistics, except the entropy, which is then within about 1e-7 bits,
   * for a fraction of the time and memory.
   */
  exact?: boolean;
  /**
   * Longest side of the overlay in pixels: a larger image is drawn scaled down to fit (the whole
   * image, aspect kept). Default: the image's own size.
   */
  overlayMaxSide?: number;
  /** Longest side of the 16-bit heatmap, likewise. Default: the image's own size. */
  heatmapMaxSide?: number;
}

/** `size` scaled down so that its longer side is at most `maxSide` (unchanged when it fits). */
export function fitWithin(size: Size, maxSide: number | undefined): Size {
  if (maxSide === undefined) return size;
  if (!(Number.isInteger(maxSide) && maxSide >= 1))
    throw new RangeError(`a maximum side must be a whole number >= 1, got ${maxSide}`);
  const longer = Math.max(size.width, size.height);
  if (longer <= maxSide) return size;
  const scale = maxSide / longer;
  return {
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}

/** Something that takes the field one row at a time (rows in order, top to bottom). */
type RowSink = (y: number, row: Float32Array, from: number, to: number) => void;

/**
 * Streams the CAM field over an image of `size` (the original, or a scaled-down copy of it)
 * into `sinks`: each row holds the field inside the crop region and 0 outside, and says where.
 */
function streamField(
  cam: CamGrid,
  geometry: Geometry,
  size: Size,
  interpolation: CamInterpolation | undefined,
  sinks: RowSink[],
): void {
  const field = camField(cam, { ...geometry, original: size }, { interpolation });
  const row = new Float32Array(size.width);
  const { region } = field;
  const inside = row.subarray(region.left, region.left + region.width);
  let zero = true;
  for (let y = 0; y < size.height; y++) {
    const ry = y - region.top;
    const inRegion = ry >= 0 && ry < region.height;
    if (inRegion) field.row(ry, inside);
    else if (!zero) inside.fill(0);
    zero = !inRegion;
    const from = inRegion ? region.left : 0;
    const to = inRegion ? region.left + region.width : 0;
    for (const sink of sinks) sink(y, row, from, to);
  }
}

/** Pixels scaled to `size` by libvips (Lanczos 3): the picture under a scaled-down overlay. */
async function scalePixels(pixels: Pixels, size: Size): Promise<Pixels> {
  const { data, info } = await sharp(pixels.data, {
    raw: {
      width: pixels.width,
      height: pixels.height,
      channels: pixels.channels as 1 | 2 | 3 | 4,
    },
  })
    .resize(size.width, size.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

export interface Explanation {
  /** The encoded overlay (PNG by default) at the original resolution. */
  overlay: Uint8Array;
  /** The normalised heatmap as a 16-bit greyscale PNG at the original resolution. */
  heatmap: Uint8Array;
  stats: CamStats;
  /** The image's own size (the statistics' resolution). */
  width: number;
  height: number;
  /** The overlay's and the heatmap's sizes (the image's own unless capped). */
  overlaySize?: Size;
  heatmapSize?: Size;
}

/**
 * Renders an explanation of one image. `geometry` must come from preprocessing this image
 * (its original size is checked against the decoded image).
 */
export async function renderExplanation(
  image: Uint8Array | DecodedImage,
  geometry: Geometry,
  cam: CamGrid,
  options: ExplanationOptions = {},
): Promise<Explanation> {
  const pixels = image instanceof Uint8Array ? await decodeImage(image, options.decode) : image;
  const { width, height } = geometry.original;
  if (pixels.width !== width || pixels.height !== height) {
    throw new RangeError(
      `geometry is for a ${width}x${height} image but this one is ${pixels.width}x${pixels.height}`,
    );
  }
  const source = { width, height };
  const overlaySize = fitWithin(source, options.overlayMaxSide);
  const heatmapSize = fitWithin(source, options.heatmapMaxSide);
  const same = (a: Size, b: Size) => a.width === b.width && a.height === b.height;
  const base = same(overlaySize, source) ? pixels : await scalePixels(pixels, overlaySize);
  // What the crop cut away is drawn as unseen, and the statistics are measured on what is left.
  const view = seenRegion(geometry);
  const blender = new OverlayRows(base, {
    ...options,
    rgba: true,
    view: seenRegion({ ...geometry, original: overlaySize }),
  });
  const grey16 = new Grey16Rows(heatmapSize.width, heatmapSize.height);
  // One pass per distinct size, every writer of that size fed from the same rows.
  const passes: [Size, RowSink[]][] = [];
  let stats: () => CamStats | Promise<CamStats>;
  if (options.exact) {
    const heat = camToOriginal(cam, geometry, { interpolation: options.interpolation });
    stats = () => camStats(heat, { border: options.border, mask: options.mask, view });
  } else {
    const statsAcc = await statsRows(source, { border: options.border, mask: options.mask, view });
    passes.push([source, [(y, r, f, t) => statsAcc.row(y, r, f, t)]]);
    stats = () => statsAcc.result();
  }
  const at = (size: Size) => {
    const found = passes.find(([s]) => same(s, size));
    if (found) return found[1];
    const sinks: RowSink[] = [];
    passes.push([size, sinks]);
    return sinks;
  };
  at(overlaySize).push((y, r, f, t) => blender.row(y, r, f, t));
  at(heatmapSize).push((y, r, f, t) => grey16.row(y, r, f, t));
  for (const [size, sinks] of passes)
    streamField(cam, geometry, size, options.interpolation, sinks);
  const [overlayBytes, heatmap] = await Promise.all([
    encodePixels(blender.pixels, options.format, options.quality, options.compressionLevel),
    grey16.png(options.compressionLevel),
  ]);
  return {
    overlay: overlayBytes,
    heatmap,
    stats: await stats(),
    width,
    height,
    overlaySize,
    heatmapSize,
  };
}

/**
 * The seed's picture: the CAM upsampled to the tensor size over the image the model saw (the
 * resized, centre-cropped input), e.g. 256x256; encoded as `options.format` (PNG by default).
 */
export async function renderTensorOverlay(
  image: Uint8Array | DecodedImage,
  card: ModelCard,
  cam: CamGrid,
  options: Omit<ExplanationOptions, 'border' | 'mask'> = {},
): Promise<Uint8Array> {
  const pixels = await tensorPixels(image, card, options.decode);
  const heat = camToTensor(cam, pixels, { interpolation: options.interpolation });
  return renderOverlay(pixels, heat, options);
}
