/**
 * The per-image outputs of an explanation in one call: the overlay and the 16-bit heatmap at
 * the original image's resolution, and the statistics, from the original bytes, the geometry
 * `preprocess` returned and the engine's CAM. Also the seed's picture on the model's crop.
 */

import { type CamGrid, type CamInterpolation, camToOriginal, camToTensor } from './cammap.js';
import type { ModelCard } from './card.js';
import { type DecodedImage, decodeImage } from './decode.js';
import type { Geometry } from './geometry.js';
import { type OverlayOptions, renderHeatmap16, renderOverlay } from './overlay.js';
import { tensorPixels } from './preprocess.js';
import { type CamStats, type CamStatsOptions, camStats } from './stats.js';

export interface ExplanationOptions extends OverlayOptions, CamStatsOptions {
  /** How the CAM is upsampled; default `bicubic` (the seed). */
  interpolation?: CamInterpolation;
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
  const heat = camToOriginal(cam, geometry, { interpolation: options.interpolation });
  const [overlay, stats] = await Promise.all([
    renderOverlay(pixels, heat, options),
    camStats(heat, { border: options.border, mask: options.mask }),
  ]);
  return { overlay, heatmap: renderHeatmap16(heat), stats, width, height };
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
