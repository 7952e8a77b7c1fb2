/**
 * The shortcut marker: a bright lead-letter token ("R" or "L", sometimes framed) near a corner.
 */
import { GLYPH_COLS, GLYPH_ROWS, glyphCell, MARKER_GLYPHS, type MarkerGlyph } from './glyphs.js';
import type { Random } from './prng.js';

export type MarkerCorner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

const CORNERS: readonly MarkerCorner[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/** Where a marker was drawn: the token's box in pixels (the region `markerMask` covers). */
export interface MarkerInfo {
  glyph: MarkerGlyph;
  corner: MarkerCorner;
  framed: boolean;
  /** Left column, top row, width and height of the token box, in pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** True when any pixel of the box has lung alpha above a trace. */
export function touchesLung(
  lung: Float32Array,
  size: number,
  x: number,
  y: number,
  w: number,
  h: number,
): boolean {
  for (let r = y; r < y + h; r++) {
    for (let c = x; c < x + w; c++) if (lung[r * size + c] > 0.01) return true;
  }
  return false;
}

/**
 * Draws a marker into `image` (size x size, modified in place) and returns its description and
 * mask. The mask covers the whole token box: the glyph plus a one-stroke margin (and the frame
 * when there is one), i.e. the object a model could latch on to, not only its thin strokes.
 * The box never overlaps the lungs (`lung`: aerated-lung alpha), so marker and lesion ground
 * truths stay disjoint; placements that would are redrawn.
 */
export function drawMarker(
  image: Uint8Array,
  lung: Float32Array,
  size: number,
  rng: Random,
): { info: MarkerInfo; mask: Uint8Array } {
  const glyph = rng.pick(MARKER_GLYPHS);
  const framed = rng.chance(0.4);
  const cell = Math.max(2, Math.round(size * rng.uniform(0.011, 0.017)));
  const pad = cell;
  const width = GLYPH_COLS * cell + 2 * pad;
  const height = GLYPH_ROWS * cell + 2 * pad;
  let corner: MarkerCorner = 'top-left';
  let x = 0;
  let y = 0;
  for (let attempt = 0; attempt < 64; attempt++) {
    // After many failures, hug the corner: the lungs never reach the image corners.
    const spread = attempt < 48 ? 0.09 : 0.03;
    corner = rng.pick(CORNERS);
    const marginX = Math.round(size * rng.uniform(0.02, spread));
    const marginY = Math.round(size * rng.uniform(0.02, spread));
    x = corner.endsWith('left') ? marginX : size - marginX - width;
    y = corner.startsWith('top') ? marginY : size - marginY - height;
    if (!touchesLung(lung, size, x, y, width, height)) break;
  }
  const level = rng.uniform(0.9, 1.0) * 255;
  const frameWidth = Math.max(1, Math.round(cell / 2));

  const mask = new Uint8Array(size * size);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const row = y + r;
      const col = x + c;
      if (row < 0 || row >= size || col < 0 || col >= size) continue;
      const k = row * size + col;
      mask[k] = 255;
      const gr = Math.floor((r - pad) / cell);
      const gc = Math.floor((c - pad) / cell);
      const inGlyph =
        gr >= 0 && gr < GLYPH_ROWS && gc >= 0 && gc < GLYPH_COLS && glyphCell(glyph, gr, gc);
      const inFrame =
        framed &&
        (r < frameWidth || c < frameWidth || r >= height - frameWidth || c >= width - frameWidth);
      if (inGlyph || inFrame) {
        image[k] = Math.max(0, Math.min(255, Math.round(level + 6 * rng.normal())));
      }
    }
  }
  return { info: { glyph, corner, framed, x, y, width, height }, mask };
}
