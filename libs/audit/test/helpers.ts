import type { CompactCam } from '@camflow/contracts';
import { type AuditImage, compactCam } from '../src/index.js';

/** A 16x16 CAM over a 256x256 input with a single hot cell (and a faint background). */
export function camAt(cellX: number, cellY: number, background = 0.05): CompactCam {
  const data = new Float32Array(256).fill(background);
  data[cellY * 16 + cellX] = 1;
  return compactCam(
    { data, width: 16, height: 16, grid: { origin: [8, 8], stride: [16, 16] } },
    { width: 256, height: 256 },
  );
}

/** A yes/no image predicted positive with its CAM peaking at a cell. */
export function positive(id: string, cellX: number, cellY: number, p = 0.9): AuditImage {
  return {
    id,
    example: `${id}.png`,
    numOutputs: 1,
    probs: [1 - p, p],
    predicted: 1,
    target: 0,
    cam: camAt(cellX, cellY),
  };
}

/** A seeded uniform draw in [a, b). */
export function uniform(seed: number) {
  let s = seed >>> 0;
  return (a: number, b: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return a + ((b - a) * s) / 2 ** 32;
  };
}
