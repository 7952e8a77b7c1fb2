/**
 * How an overlay draws the part of the image the model never saw (what a centre crop cut away):
 * the image's luma, dimmed, with light diagonal hatching, and no heat colour at all (R = G = B).
 * Drawing it with the colormap's low end would read as "no evidence here", which the model never
 * had the chance to give.
 */

/** Hatch period and line width, in overlay pixels (lines run down to the left). */
export const UNSEEN_HATCH_PERIOD = 12;
export const UNSEEN_HATCH_WIDTH = 2;

/** Grey of an unseen pixel of luma `l`: dimmed to 16..127, hatch lines 80 brighter. */
function unseenGrey(l: number, hatch: boolean): number {
  const dim = (16 + (l * 111 + 127) / 255) | 0;
  return hatch ? dim + 80 : dim;
}

const DIM = Uint8Array.from({ length: 256 }, (_, l) => unseenGrey(l, false));
const HATCH = Uint8Array.from({ length: 256 }, (_, l) => unseenGrey(l, true));

/** ITU-R 601-2 luma, as Pillow's convert('L'): (299 R + 587 G + 114 B) / 1000, rounded. */
function luma(r: number, g: number, b: number): number {
  return ((r * 299 + g * 587 + b * 114 + 500) / 1000) | 0;
}

/**
 * Writes the unseen style over columns `from .. to - 1` of row `y`: `src` is the image (any
 * channel count; grey is 1 or 2 channels, else the first three are RGB), `out` the overlay with
 * `outChannels` 3 (RGB) or 4 (RGBA, alpha left opaque).
 */
export function drawUnseen(
  src: Uint8Array,
  channels: number,
  width: number,
  y: number,
  from: number,
  to: number,
  out: Uint8Array,
  outChannels: number,
): void {
  for (let x = from; x < to; x++) {
    const i = (y * width + x) * channels;
    const l = channels < 3 ? src[i] : luma(src[i], src[i + 1], src[i + 2]);
    const hatch = (x + y) % UNSEEN_HATCH_PERIOD < UNSEEN_HATCH_WIDTH;
    const g = hatch ? HATCH[l] : DIM[l];
    const o = (y * width + x) * outChannels;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
  }
}
