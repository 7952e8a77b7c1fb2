/**
 * Occluding a region of the model input. The filler is a smooth surface interpolated from the
 * box's surroundings (a Coons patch over its four border profiles, each the median of a thin strip
 * outside the edge, smoothed along it): it removes what the box shows (a token, a stamp, an
 * opacity) and keeps the local brightness and its gradient, so occluding dark lung does not paint
 * a bright patch there (a constant or ring-median fill does: the model then sees a new opacity),
 * and a bright token does not survive as a blob (a blur keeps it). Like ROAD's linear imputation
 * (Rong et al. 2022), it leaks little of the box's shape. An occluder is still out of
 * distribution: hence the controls.
 */
import type { PixelBox } from './candidates.js';
import { hashSeed, rng } from './random.js';
import { at, type ImageTensor } from './tensor.js';

/** Thickness of the strip outside each edge that the border profiles are read from. */
const STRIP = 4;

/** A copy of the tensor with `box` filled from its surroundings (see the module comment). */
export function occlude(t: ImageTensor, box: PixelBox): Float32Array {
  const out = Float32Array.from(t.data);
  const [x0, y0, x1, y1] = pixelSpan(t, box);
  const w = x1 - x0;
  const h = y1 - y0;
  if (w <= 0 || h <= 0) return out;
  for (let c = 0; c < t.channels; c++) {
    const v = (x: number, y: number) => t.data[at(t, c, x, y)];
    const strip = (n: number, value: (i: number, k: number) => number | undefined) => {
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const vals: number[] = [];
        for (let k = 1; k <= STRIP; k++) {
          const x = value(i, k);
          if (x !== undefined) vals.push(x);
        }
        p[i] = median(vals);
      }
      return smooth(p, Math.max(2, Math.round(n / 8)));
    };
    let top =
      y0 > 0 ? strip(w, (i, k) => (y0 - k >= 0 ? v(x0 + i, y0 - k) : undefined)) : undefined;
    let bottom =
      y1 < t.height
        ? strip(w, (i, k) => (y1 - 1 + k < t.height ? v(x0 + i, y1 - 1 + k) : undefined))
        : undefined;
    let left =
      x0 > 0 ? strip(h, (i, k) => (x0 - k >= 0 ? v(x0 - k, y0 + i) : undefined)) : undefined;
    let right =
      x1 < t.width
        ? strip(h, (i, k) => (x1 - 1 + k < t.width ? v(x1 - 1 + k, y0 + i) : undefined))
        : undefined;
    if (!top && !bottom && !left && !right) {
      // The box covers the whole image: its own median.
      const fill = median(
        Array.from({ length: t.width * t.height }, (_, i) =>
          v(i % t.width, Math.floor(i / t.width)),
        ),
      );
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[at(t, c, x, y)] = fill;
      continue;
    }
    // A missing side (the box touches the image edge) repeats the opposite one; with both sides
    // of an axis missing, the other axis's profiles give each row or column its level.
    top ??= bottom;
    bottom ??= top;
    left ??= right;
    right ??= left;
    const rowLevel = (y: number) => ((left as Float64Array)[y] + (right as Float64Array)[y]) / 2;
    const colLevel = (x: number) => ((top as Float64Array)[x] + (bottom as Float64Array)[x]) / 2;
    top ??= Float64Array.from({ length: w }, () => rowLevel(0));
    bottom ??= Float64Array.from({ length: w }, () => rowLevel(h - 1));
    left ??= Float64Array.from({ length: h }, () => colLevel(0));
    right ??= Float64Array.from({ length: h }, () => colLevel(w - 1));
    const T = top;
    const B = bottom;
    const L = left;
    const R = right;
    const c00 = (T[0] + L[0]) / 2;
    const c10 = (T[w - 1] + R[0]) / 2;
    const c01 = (B[0] + L[h - 1]) / 2;
    const c11 = (B[w - 1] + R[h - 1]) / 2;
    for (let j = 0; j < h; j++) {
      const vv = (j + 0.5) / h;
      for (let i = 0; i < w; i++) {
        const u = (i + 0.5) / w;
        const f =
          (1 - vv) * T[i] +
          vv * B[i] +
          (1 - u) * L[j] +
          u * R[j] -
          ((1 - u) * (1 - vv) * c00 + u * (1 - vv) * c10 + (1 - u) * vv * c01 + u * vv * c11);
        out[at(t, c, x0 + i, y0 + j)] = f;
      }
    }
  }
  return out;
}

/** A running mean of radius r (edges clamped). */
function smooth(p: Float64Array, r: number): Float64Array {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    let s = 0;
    let n = 0;
    for (let k = Math.max(0, i - r); k <= Math.min(p.length - 1, i + r); k++) {
      s += p[k];
      n++;
    }
    out[i] = s / n;
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
  if (values.length === 0) return 0;
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
