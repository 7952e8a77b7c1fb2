/**
 * The per-image outputs of an explanation in one call: the overlay and the 16-bit heatmap at
 * the original image's resolution, and the statistics, from the original bytes, the geometry
 * `preprocess` returned and the engine's CAM. Also the seed's picture on the model's crop.
 *
 * The CAM field is streamed row by row (`camField`) through the overlay blender, the 16-bit
 * heatmap writer and the statistics in one pass: no full-resolution float map, a few table
 * lookups per pixel; then both PNGs compress in parallel on libuv's thread pool.
 */

import {
  type CamGrid,
  type CamInterpolation,
  camField,
  camToOriginal,
  camToTensor,
} from './cammap.js';
import type { ModelCard } from './card.js';
import { type DecodedImage, decodeImage } from './decode.js';
import type { Geometry } from './geometry.js';
import {
  encodePixels,
  Grey16Rows,
  type OverlayOptions,
  OverlayRows,
  renderHeatmap16,
  renderOverlay,
} from './overlay.js';
import { tensorPixels } from './preprocess.js';
import { type CamStats, type CamStatsOptions, camStats, statsRows } from './stats.js';

export interface ExplanationOptions extends OverlayOptions, CamStatsOptions {
  /** How the CAM is upsampled; default `bicubic` (the seed). */
  interpolation?: CamInterpolation;
  /**
   * Compute the statistics exactly as `camStats` does on the full-resolution map (a second pass
   * with `Math.log2` per pixel for the entropy, and the map in memory). Default false: the same
   * overlay, heatmap and statistics, except the entropy, which is then within about 1e-7 bits,
   * for a fraction of the time and memory.
   */
  exact?: boolean;
}

export interface Explanation {
  /** The encoded overlay (PNG by default) at the original resolution. */
  overlay: Uint8Array;
  /** The normalised heatmap as a 16-bit greyscale PNG at the original resolution. */
  heatmap: Uint8Array;
  stats: CamStats;
  width: number;
  height: number;
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
  if (options.exact) {
    const heat = camToOriginal(cam, geometry, { interpolation: options.interpolation });
    const [overlay, stats] = await Promise.all([
      renderOverlay(pixels, heat, options),
      camStats(heat, { border: options.border, mask: options.mask }),
    ]);
    const heatmap = renderHeatmap16(heat, { compressionLevel: options.compressionLevel });
    return { overlay, heatmap, stats, width, height };
  }

  const field = camField(cam, geometry, { interpolation: options.interpolation });
  const statsAcc = await statsRows({ width, height }, options);
  const blender = new OverlayRows(pixels, options);
  const grey16 = new Grey16Rows(width, height);
  // One row of the map: the field inside the region, 0 outside (the writers are told where).
  const row = new Float32Array(width);
  const { region } = field;
  const inside = row.subarray(region.left, region.left + region.width);
  let zero = true;
  // One pass over the rows, then both PNGs compress at once on libuv's thread pool.
  for (let y = 0; y < height; y++) {
    const ry = y - region.top;
    const inRegion = ry >= 0 && ry < region.height;
    if (inRegion) field.row(ry, inside);
    else if (!zero) inside.fill(0);
    zero = !inRegion;
    const from = inRegion ? region.left : 0;
    const to = inRegion ? region.left + region.width : 0;
    blender.row(y, row, from, to);
    grey16.row(y, row, from, to);
    statsAcc.row(y, row, from, to);
  }
  const [overlayBytes, heatmap] = await Promise.all([
    encodePixels(blender.pixels, options.format, options.quality, options.compressionLevel),
    grey16.png(options.compressionLevel),
  ]);
  return { overlay: overlayBytes, heatmap, stats: statsAcc.result(), width, height };
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
