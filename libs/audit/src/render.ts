/**
 * The audit's pictures: the heat atlas over a typical image of the class, and a finding's example
 * images with the region drawn (PNG bytes; pixels in, bytes out, no IO).
 */
import type { Box, CompactCam } from '@camflow/contracts';
import { camToTensor, encodePixels, overlayPixels, type Pixels } from '@camflow/imaging';
import { expandCam } from './compact-cam.js';

/** The mean of several images of the same size (a "typical image": anatomy, no one patient). */
export function meanPixels(images: readonly Pixels[]): Pixels | undefined {
  const first = images[0];
  if (!first) return undefined;
  const same = images.filter(
    (p) => p.width === first.width && p.height === first.height && p.channels === first.channels,
  );
  const sum = new Float64Array(first.data.length);
  for (const p of same) for (let i = 0; i < sum.length; i++) sum[i] += p.data[i];
  const data = new Uint8Array(sum.length);
  for (let i = 0; i < sum.length; i++) data[i] = Math.round(sum[i] / same.length);
  return { width: first.width, height: first.height, channels: first.channels, data };
}

/** The atlas (a `grid` x `grid` mean map) drawn over `background` (the model input's frame). */
export async function renderAtlas(
  atlas: { width: number; height: number; data: readonly number[] },
  background: Pixels,
): Promise<Uint8Array> {
  const heat = camToTensor(
    { width: atlas.width, height: atlas.height, data: Float32Array.from(atlas.data) },
    { width: background.width, height: background.height },
    { interpolation: 'bilinear' },
  );
  // Gamma 1: the atlas is an average, its mid-levels carry the information.
  return encodePixels(drawBoxes(overlayPixels(background, heat, { alpha: 0.5, gamma: 1 }), []));
}

/** An image's CAM over it (as its overlay is drawn) with `boxes` outlined. */
export async function renderExample(
  background: Pixels,
  cam: CompactCam,
  boxes: readonly Box[],
): Promise<Uint8Array> {
  const heat = camToTensor(expandCam(cam), { width: background.width, height: background.height });
  return encodePixels(drawBoxes(overlayPixels(background, heat, { alpha: 0.4 }), boxes));
}

/** Outlines normalised boxes in white with a black edge (visible on any colour), 2 px wide. */
export function drawBoxes(p: Pixels, boxes: readonly Box[]): Pixels {
  const { width: W, height: H, channels: C, data } = p;
  const set = (x: number, y: number, v: number) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    for (let c = 0; c < C; c++) data[(y * W + x) * C + c] = v;
  };
  for (const b of boxes) {
    const x0 = Math.round(b.x * W);
    const y0 = Math.round(b.y * H);
    const x1 = Math.round((b.x + b.width) * W) - 1;
    const y1 = Math.round((b.y + b.height) * H) - 1;
    for (const [d, v] of [
      [-1, 0],
      [0, 255],
      [1, 255],
      [2, 0],
    ] as const) {
      for (let x = x0 - d; x <= x1 + d; x++) {
        set(x, y0 - d, v);
        set(x, y1 + d, v);
      }
      for (let y = y0 - d; y <= y1 + d; y++) {
        set(x0 - d, y, v);
        set(x1 + d, y, v);
      }
    }
  }
  return p;
}
