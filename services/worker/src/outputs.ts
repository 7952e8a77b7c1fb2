/**
 * What the worker writes per image, and how it is drawn: the card's `render` settings over the
 * worker's defaults. The defaults come from the measurements in docs/BENCHMARKS.md
 * ("Throughput"): encoding a 1024x1024 overlay as JPEG (quality 90) costs ~6 ms of CPU against
 * ~32 for PNG (zlib level 1) and 160 KB against 2.1 MB, within 45 dB PSNR of the PNG's pixels;
 * the 16-bit heatmap at source resolution is hundreds of kilobytes to megabytes of a bicubic
 * resampling of a 16x16 map, so by default it is written at most 256 px on its longer side (the
 * same field sampled more coarsely), while the result JSON carries the raw CAM, its grid and the
 * preprocessing geometry, from which any resolution can be recomputed exactly. A card asks for
 * `"maxSide": "source"` to get either at the image's own resolution.
 */
import type { OverlayExtension } from '@camflow/contracts';
import type { ModelCard, OutputFormat } from '@camflow/imaging';
import type { RenderOptions } from './image-work.js';

/** Output settings with every default resolved. */
export interface OutputSettings {
  overlay: { format: OutputFormat; quality: number; maxSide: number | 'source' };
  heatmap: { maxSide: number | 'source' };
}

/** The worker's defaults (see the comment at the top). */
export const DEFAULT_OUTPUTS: OutputSettings = {
  overlay: { format: 'jpeg', quality: 90, maxSide: 2048 },
  heatmap: { maxSide: 256 },
};

/** The card's settings over the defaults. */
export function outputSettings(card: Pick<ModelCard, 'render'>): OutputSettings {
  return {
    overlay: { ...DEFAULT_OUTPUTS.overlay, ...card.render?.overlay },
    heatmap: { ...DEFAULT_OUTPUTS.heatmap, ...card.render?.heatmap },
  };
}

/** The renderer's options for these settings. */
export function renderOptions(s: OutputSettings): RenderOptions {
  const side = (v: number | 'source') => (v === 'source' ? undefined : v);
  return {
    format: s.overlay.format,
    quality: s.overlay.quality,
    overlayMaxSide: side(s.overlay.maxSide),
    heatmapMaxSide: side(s.heatmap.maxSide),
  };
}

/** The overlay's key extension and content type. */
export const OVERLAY_TYPES: Record<OutputFormat, { ext: OverlayExtension; contentType: string }> = {
  png: { ext: 'png', contentType: 'image/png' },
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
  webp: { ext: 'webp', contentType: 'image/webp' },
};
