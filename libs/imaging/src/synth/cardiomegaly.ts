/**
 * Cardiomegaly: the heart shadow drawn larger than the anatomy's normal range, and the heart's
 * ground-truth mask.
 */
import { type Anatomy, heartAlpha } from './anatomy.js';
import { toCanonical } from './phantom.js';
import type { Random } from './prng.js';

/**
 * Enlarges the heart of `a` (in place): wider by 22-40%, taller by 8-20%, and shifted 0.02-0.05
 * towards the image right (the left ventricle grows outwards, to the patient's left). A normal
 * heart is 0.34-0.40 wide (half-axis, canonical units), an enlarged one 0.41-0.56: the
 * cardiothoracic ratio of the phantoms goes from about 0.42-0.55 to 0.52-0.70, so the classes
 * overlap a little at the border, as they do on real films.
 */
export function enlargeHeart(a: Anatomy, rng: Random): void {
  const h = a.heart;
  h.rx *= rng.uniform(1.22, 1.4);
  h.ry *= rng.uniform(1.08, 1.2);
  h.cx += rng.uniform(0.02, 0.05);
}

/** 255 where the heart shadow's alpha exceeds 0.5 (the whole ellipse, behind the diaphragm too). */
export function heartMask(a: Anatomy, size: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const [x, y] = toCanonical(a, size, col, row);
      if (heartAlpha(a, x, y) > 0.5) mask[row * size + col] = 255;
    }
  }
  return mask;
}
