/**
 * Occluding a region of the model input. The filler is the median of a ring around the box, per
 * channel: it removes what the box shows (a token, a stamp, an opacity) with the local
 * background, without the sharp grey patch a constant fill leaves (an occluder is itself out of
 * distribution: hence the controls) and without a blur that keeps a bright token a bright blob.
 */
import type { PixelBox } from './candidates.js';
import { hashSeed, rng } from './random.js';
import { at, type ImageTensor } from './tensor.js';

/** A copy of the tensor with `box` filled by the median of a ring around it. */
export function occlude(t: ImageTensor, box: PixelBox): Float32Array {
  const out = Float32Array.from(t.data);
  const [x0, y0, x1, y1] = pixelSpan(t, box);
  if (x1 <= x0 || y1 <= y0) return out;
  const ring = Math.max(4, Math.round(Math.max(x1 - x0, y1 - y0) / 2));
  const rx0 = Math.max(0, x0 - ring);
  const ry0 = Math.max(0, y0 - ring);
  const rx1 = Math.min(t.width, x1 + ring);
  const ry1 = Math.min(t.height, y1 + ring);
  for (let c = 0; c < t.channels; c++) {
    const values: number[] = [];
    for (let y = ry0; y < ry1; y++) {
      for (let x = rx0; x < rx1; x++) {
        if (x >= x0 && x < x1 && y >= y0 && y < y1) continue;
        values.push(t.data[at(t, c, x, y)]);
      }
    }
    // The box covers the whole image: the image's own median.
    if (values.length === 0)
      for (let i = c; i < t.data.length; i += t.channels) values.push(t.data[i]);
    const fill = median(values);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[at(t, c, x, y)] = fill;
  }
  return out;
}

function pixelSpan(t: ImageTensor, b: PixelBox): [number, number, number, number] {
  return [
    Math.max(0, Math.round(b[0])),
    Math.max(0, Math.round(b[1])),
    Math.min(t.width, Math.round(b[0] + b[2])),
    Math.min(t.height, Math.round(b[1] + b[3])),
  ];
}

function median(values: number[]): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function overlaps(a: PixelBox, b: PixelBox): boolean {
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

/**
 * Control placements for one image: boxes of the candidate's size centred where the class's
 * evidence usually lies (drawn from the class's peak positions outside every candidate box),
 * never overlapping a candidate. The control asks "does occluding an ordinary evidence-bearing
 * place hurt as much?", so "any occlusion hurts" is not mistaken for a finding. Where no such
 * place exists, uniform placements that avoid the candidates. Seeded by the image and candidate.
 */
export function controlBoxes(
  box: PixelBox,
  avoid: readonly PixelBox[],
  pool: readonly number[],
  frame: { width: number; height: number },
  count: number,
  seed: string,
): PixelBox[] {
  const r = rng(hashSeed(seed));
  const [, , w, h] = box;
  const centres: [number, number][] = [];
  for (let i = 0; i + 1 < pool.length; i += 2) {
    const p: PixelBox = [pool[i] - 0.5, pool[i + 1] - 0.5, 1, 1];
    if (!avoid.some((a) => overlaps(a, p))) centres.push([pool[i], pool[i + 1]]);
  }
  const place = (cx: number, cy: number): PixelBox => [
    Math.min(Math.max(0, cx - w / 2), Math.max(0, frame.width - w)),
    Math.min(Math.max(0, cy - h / 2), Math.max(0, frame.height - h)),
    w,
    h,
  ];
  const out: PixelBox[] = [];
  for (let attempt = 0; attempt < 200 && out.length < count; attempt++) {
    const fromPool = centres.length > 0 && attempt < 150;
    const [cx, cy] = fromPool
      ? centres[Math.floor(r() * centres.length)]
      : [r() * frame.width, r() * frame.height];
    const b = place(cx, cy);
    if (avoid.some((a) => overlaps(a, b))) continue;
    out.push(b);
  }
  return out;
}
