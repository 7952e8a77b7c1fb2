import { createHash } from 'node:crypto';

/** Number of non-zero pixels. */
export function count(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) if (v !== 0) n++;
  return n;
}

/** Mean of `image` over the pixels where `where(k)` holds (NaN when none). */
export function meanWhere(image: Uint8Array, where: (k: number) => boolean): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < image.length; k++) {
    if (where(k)) {
      sum += image[k];
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** Bounding box of the non-zero pixels of a size x size mask, or null when empty. */
export function bbox(
  mask: Uint8Array,
  size: number,
): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let k = 0; k < mask.length; k++) {
    if (mask[k] === 0) continue;
    const x = k % size;
    const y = Math.floor(k / size);
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Largest deviation of a binomial proportion we accept: 4 standard deviations, at least 1/n. */
export function binomialTolerance(p: number, n: number): number {
  return Math.max(4 * Math.sqrt((p * (1 - p)) / n), 1 / n);
}

export function isBinary(mask: Uint8Array): boolean {
  for (const v of mask) if (v !== 0 && v !== 255) return false;
  return true;
}
