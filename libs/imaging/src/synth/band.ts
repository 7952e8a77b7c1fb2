/**
 * A burned-in text band: a "PORTABLE" or "AP SUPINE" stamp in bright 5x7 glyphs at the bottom
 * centre (or top centre) of the film, sometimes on a dark backing strip, never on the lungs.
 */
import { GLYPH_COLS, GLYPH_ROWS, type Glyph, glyphCell } from './glyphs.js';
import { touchesLung } from './marker.js';
import type { Random } from './prng.js';

export const BAND_TEXTS = ['PORTABLE', 'AP SUPINE'] as const;
export type BandText = (typeof BAND_TEXTS)[number];
export type BandPlace = 'bottom' | 'top';

/** Probability that the band is at the bottom of the film (else at the top). */
const BOTTOM_SHARE = 0.8;
/** Supersampling per axis for the glyphs' pixel coverage (cells are not whole pixels). */
const SS = 4;

/** Where a band was drawn: its box in pixels (the region the artifact mask covers). */
export interface BandInfo {
  text: BandText;
  place: BandPlace;
  /** Drawn on a dark backing strip. */
  backed: boolean;
  /** Glyph cell (one bitmap pixel) in image pixels. */
  cell: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Draws a text band into `image` (size x size, in place). The mask covers the whole box: the
 * text plus a one-cell margin (and the backing strip, which has the same extent). Placements
 * whose box touches the lungs are redrawn; after many failures the band hugs the film's edge
 * and shrinks, where the lungs never reach.
 */
export function drawBand(
  image: Uint8Array,
  lung: Float32Array,
  size: number,
  rng: Random,
): { info: BandInfo; mask: Uint8Array } {
  const text = rng.pick(BAND_TEXTS);
  const place: BandPlace = rng.chance(BOTTOM_SHARE) ? 'bottom' : 'top';
  const backed = rng.chance(0.5);
  // Characters advance 6 cells (5 + 1 of spacing); the last spacing is dropped.
  const cols = text.length * (GLYPH_COLS + 1) - 1;
  let cell = 0;
  let x0 = 0;
  let y0 = 0;
  let box = { x: 0, y: 0, width: 0, height: 0 };
  for (let attempt = 0; attempt < 64; attempt++) {
    const late = attempt >= 48;
    cell = size * rng.uniform(0.006, late ? 0.007 : 0.0095);
    const w = (cols + 2) * cell;
    const h = (GLYPH_ROWS + 2) * cell;
    const cx = size * (0.5 + rng.uniform(-0.06, 0.06));
    const margin = size * rng.uniform(0.012, late ? 0.02 : 0.06);
    x0 = cx - w / 2;
    y0 = place === 'bottom' ? size - margin - h : margin;
    box = boxOf(x0, y0, w, h, size);
    if (!touchesLung(lung, size, box.x, box.y, box.width, box.height)) break;
  }
  const level = rng.uniform(0.85, 1.0) * 255;
  const dark = rng.uniform(0.03, 0.12) * 255;
  const mask = new Uint8Array(size * size);
  for (let r = box.y; r < box.y + box.height; r++) {
    for (let c = box.x; c < box.x + box.width; c++) {
      const k = r * size + c;
      mask[k] = 255;
      let base = image[k];
      if (backed) base = dark + 4 * rng.normal();
      const a = coverage(text, cols, (c - x0) / cell - 1, (r - y0) / cell - 1, 1 / cell);
      const v = a > 0 ? base * (1 - a) + (level + 6 * rng.normal()) * a : base;
      image[k] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return {
    info: { text, place, backed, cell: Math.round(cell * 100) / 100, ...box },
    mask,
  };
}

/** Integer pixel box covering [x0, x0 + w) x [y0, y0 + h), clipped to the image. */
function boxOf(x0: number, y0: number, w: number, h: number, size: number) {
  const x = Math.max(0, Math.floor(x0));
  const y = Math.max(0, Math.floor(y0));
  return {
    x,
    y,
    width: Math.min(size, Math.ceil(x0 + w)) - x,
    height: Math.min(size, Math.ceil(y0 + h)) - y,
  };
}

/**
 * Share of the pixel whose top-left corner is (u, v) in cell units (relative to the first
 * glyph's top-left) covered by strokes; `step` is one pixel in cell units.
 */
function coverage(text: string, cols: number, u: number, v: number, step: number): number {
  let hits = 0;
  for (let a = 0; a < SS; a++) {
    const gr = Math.floor(v + ((a + 0.5) / SS) * step);
    if (gr < 0 || gr >= GLYPH_ROWS) continue;
    for (let b = 0; b < SS; b++) {
      const gc = Math.floor(u + ((b + 0.5) / SS) * step);
      if (gc < 0 || gc >= cols) continue;
      const ch = Math.floor(gc / (GLYPH_COLS + 1));
      const col = gc - ch * (GLYPH_COLS + 1);
      if (col < GLYPH_COLS && glyphCell(text[ch] as Glyph, gr, col)) hits++;
    }
  }
  return hits / (SS * SS);
}
