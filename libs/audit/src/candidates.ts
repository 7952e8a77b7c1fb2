/**
 * Candidate regions, without masks: compact boxes where many of a class's images put their CAM
 * peak, and that stand out from their surroundings. Pathology moves with the anatomy, so its
 * peaks spread over an organ; a burned-in marker, a text stamp or an electrode sits at the same
 * place on every film, so its peaks form a tight, isolated cluster (AUDIT-NOTES.md).
 *
 * The scan (a spatial scan statistic, like Kulldorff's): each image's peak is spread over one
 * CAM cell (a coarse map cannot place it more precisely), giving a density over the model
 * input's frame that sums to 1. For boxes of a few sizes and shapes (squares 0.75 to 2 cells across
 * half-width, thin strips up to 4 cells along for bands and stamps; at
 * most `maxBoxArea` of the frame), everywhere, compare the density inside with the density in the
 * ring around it (a box twice as wide):
 * - excess share = mass inside - ring density x box area: peaks the surroundings do not explain;
 * - isolation = density inside / ring density, taken conservatively: the ring's peak count is
 *   replaced by its 90% Poisson upper bound, so a ring that is empty by chance in a small data
 *   set does not make any cluster look isolated (pathology clusters too: lesions favour the middle
 *   of the lung fields; what sets an artifact apart is that nothing surrounds it, even with many
 *   images).
 * The best box (largest excess) with isolation >= `minIsolation` and excess >= `minExcess` is a
 * candidate; its carriers (images whose peak lies in it) are removed and the scan repeats. A box
 * whose point estimate of isolation passes but whose conservative one does not is "suggestive":
 * the data set is too small to tell (the verdict is then inconclusive, never no-finding).
 */
import type { ClassImages } from './collect.js';

export interface CandidateOptions {
  /** Largest box, as a share of the frame's area. Default 0.1. */
  maxBoxArea?: number;
  /**
   * Density inside / density around, conservatively (the ring's count at its 90% upper bound).
   * Default 20 (reference clean model, 150-500 predictions: at most 11; marker corners: 25-40).
   */
  minIsolation?: number;
  /** The same ratio, point estimate, above which an untested box is "suggestive". Default 25. */
  suggestiveIsolation?: number;
  /** Share of the class's images the surroundings do not explain. Default 0.08. */
  minExcess?: number;
  /** Fewest carriers worth testing. Default 5. */
  minCarriers?: number;
  /** Most candidates per class. Default 6. */
  maxCandidates?: number;
  /** Density grid cells per side. Default 64. */
  grid?: number;
}

export const CANDIDATE_DEFAULTS: Required<CandidateOptions> = {
  maxBoxArea: 0.1,
  minIsolation: 20,
  suggestiveIsolation: 25,
  minExcess: 0.08,
  minCarriers: 5,
  maxCandidates: 6,
  grid: 64,
};

/** A box in model-input pixels: x, y (top-left), width, height. */
export type PixelBox = [number, number, number, number];

export interface Candidate {
  class: number;
  box: PixelBox;
  /** Carriers / class images. */
  imageShare: number;
  excessShare: number;
  /** Conservative isolation (what decides), and its point estimate. */
  isolation: number;
  isolationPoint: number;
  /** Indices of the carriers in the class's image list. */
  carriers: number[];
}

interface Frame {
  width: number;
  height: number;
  cell: [number, number];
}

/** Finds the candidate regions of one class (see the module comment). */
export function findCandidates(
  cls: ClassImages,
  frame: Frame,
  options: CandidateOptions = {},
): Candidate[] {
  return scanCandidates(cls, frame, options).candidates;
}

/**
 * The candidates, and the most isolated box that only the point estimate finds isolated
 * (`suggestive`): what a larger data set might confirm.
 */
export function scanCandidates(
  cls: ClassImages,
  frame: Frame,
  options: CandidateOptions = {},
): { candidates: Candidate[]; suggestive?: Omit<Candidate, 'carriers'> & { carriers: number } } {
  const o = { ...CANDIDATE_DEFAULTS, ...options };
  const n = cls.ids.length;
  if (n === 0) return { candidates: [] };
  const g = o.grid;
  const sx = frame.width / g;
  const sy = frame.height / g;
  const remaining = new Set(Array.from({ length: n }, (_, i) => i));
  const out: Candidate[] = [];
  let suggestive:
    | { excess: number; iso: number; point: number; box: [number, number, number, number] }
    | undefined;
  // Box half-sizes per axis, in CAM cells: squares (0.75 to 2 cells) for tokens and electrodes,
  // and thin strips (at most 1 cell across half-width, up to 4 along) for text stamps, rulers
  // and bands, whose peaks spread along a line. Wider rectangles would fit organs: a lung field
  // is a compact, busy region too, and pathology is supposed to be there.
  const cellsX = frame.cell[0] / sx;
  const cellsY = frame.cell[1] / sy;
  const half = (m: number, cells: number) => Math.max(1, Math.round(m * cells));
  const squares = [0.75, 1, 1.5, 2].map((m) => [half(m, cellsX), half(m, cellsY)] as const);
  const strips = [0.75, 1].flatMap((thin) =>
    [2, 3, 4].flatMap((long) => [
      [half(long, cellsX), half(thin, cellsY)] as const,
      [half(thin, cellsX), half(long, cellsY)] as const,
    ]),
  );
  const shapes = [...new Map([...squares, ...strips].map((s) => [`${s[0]},${s[1]}`, s])).values()];
  const toPixels = (b: [number, number, number, number]): PixelBox => [
    b[0] * sx,
    b[1] * sy,
    (b[2] - b[0]) * sx,
    (b[3] - b[1]) * sy,
  ];
  while (out.length < o.maxCandidates && remaining.size >= o.minCarriers) {
    const sum = integral(spreadPeaks(cls, [...remaining], frame, g), g, n);
    let best:
      | { excess: number; iso: number; point: number; box: [number, number, number, number] }
      | undefined;
    for (const [hx, hy] of shapes) {
      for (let cy = 0; cy <= g; cy++) {
        for (let cx = 0; cx <= g; cx++) {
          const x0 = Math.max(0, cx - hx);
          const x1 = Math.min(g, cx + hx);
          const y0 = Math.max(0, cy - hy);
          const y1 = Math.min(g, cy + hy);
          // A box clipped to less than half its width on a side is the same box shifted.
          if (x1 - x0 < hx || y1 - y0 < hy) continue;
          const aIn = (x1 - x0) * (y1 - y0);
          if (aIn > o.maxBoxArea * g * g) continue;
          const inside = sum(x0, y0, x1, y1);
          if (inside <= 0) continue;
          const X0 = Math.max(0, cx - 2 * hx);
          const X1 = Math.min(g, cx + 2 * hx);
          const Y0 = Math.max(0, cy - 2 * hy);
          const Y1 = Math.min(g, cy + 2 * hy);
          const aRing = Math.max(1, (X1 - X0) * (Y1 - Y0) - aIn);
          const ringMass = Math.max(0, sum(X0, Y0, X1, Y1) - inside);
          const excess = inside - (ringMass / aRing) * aIn;
          if (excess < o.minExcess) continue;
          // Point estimate (half an image's peak at least: never infinite), and the conservative
          // one with the ring's count at its 90% upper bound.
          const count = inside * n;
          const point = count / aIn / (Math.max(ringMass * n, 0.5) / aRing);
          const iso = count / aIn / (poissonUpper(ringMass * n) / aRing);
          if (iso >= o.minIsolation) {
            if (!best || excess > best.excess + 1e-9)
              best = { excess, iso, point, box: [x0, y0, x1, y1] };
          } else if (
            point >= o.suggestiveIsolation &&
            (!suggestive || excess > suggestive.excess)
          ) {
            suggestive = { excess, iso, point, box: [x0, y0, x1, y1] };
          }
        }
      }
    }
    if (!best) break;
    const box = toPixels(best.box);
    const carriers = [...remaining].filter((i) =>
      inBox(cls.peaks[2 * i], cls.peaks[2 * i + 1], box),
    );
    if (carriers.length < o.minCarriers) break;
    for (const i of carriers) remaining.delete(i);
    out.push({
      class: cls.class,
      box,
      imageShare: carriers.length / n,
      excessShare: best.excess,
      isolation: best.iso,
      isolationPoint: best.point,
      carriers,
    });
  }
  if (!suggestive || out.length > 0) return { candidates: out };
  const box = toPixels(suggestive.box);
  const carriers = [...remaining].filter((i) =>
    inBox(cls.peaks[2 * i], cls.peaks[2 * i + 1], box),
  ).length;
  if (carriers < o.minCarriers) return { candidates: out };
  return {
    candidates: out,
    suggestive: {
      class: cls.class,
      box,
      imageShare: carriers / n,
      excessShare: suggestive.excess,
      isolation: suggestive.iso,
      isolationPoint: suggestive.point,
      carriers,
    },
  };
}

/**
 * The 90% upper confidence bound of a Poisson count observed as `c` (Wilson-Hilferty's cube-root
 * approximation of the chi-square quantile; within 1% of the exact bound from c = 0 up).
 */
export function poissonUpper(c: number): number {
  const k = Math.max(0, c) + 1;
  const z = 1.2816;
  return k * (1 - 1 / (9 * k) + z / (3 * Math.sqrt(k))) ** 3;
}

export function inBox(x: number, y: number, b: PixelBox): boolean {
  return x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + b[3];
}

/** Each peak as a uniform square one CAM cell wide, as mass on the g x g grid. */
function spreadPeaks(cls: ClassImages, which: number[], frame: Frame, g: number): Float64Array {
  const d = new Float64Array(g * g);
  const sx = frame.width / g;
  const sy = frame.height / g;
  const [cw, ch] = frame.cell;
  for (const i of which) {
    const px = cls.peaks[2 * i];
    const py = cls.peaks[2 * i + 1];
    const ax = clampSpan(px - cw / 2, px + cw / 2, frame.width);
    const ay = clampSpan(py - ch / 2, py + ch / 2, frame.height);
    const area = (ax[1] - ax[0]) * (ay[1] - ay[0]);
    if (area <= 0) continue;
    for (let gy = Math.floor(ay[0] / sy); gy < Math.min(g, Math.ceil(ay[1] / sy)); gy++) {
      const oy = overlap(ay, gy * sy, (gy + 1) * sy);
      for (let gx = Math.floor(ax[0] / sx); gx < Math.min(g, Math.ceil(ax[1] / sx)); gx++) {
        d[gy * g + gx] += (oy * overlap(ax, gx * sx, (gx + 1) * sx)) / area;
      }
    }
  }
  return d;
}

function clampSpan(a: number, b: number, max: number): [number, number] {
  return [Math.max(0, a), Math.min(max, b)];
}

function overlap(span: [number, number], a: number, b: number): number {
  return Math.max(0, Math.min(span[1], b) - Math.max(span[0], a));
}

/** Box sums over a density (normalised by the class's image count) via an integral image. */
function integral(d: Float64Array, g: number, n: number) {
  const s = new Float64Array((g + 1) * (g + 1));
  for (let y = 0; y < g; y++) {
    let row = 0;
    for (let x = 0; x < g; x++) {
      row += d[y * g + x] / n;
      s[(y + 1) * (g + 1) + x + 1] = s[y * (g + 1) + x + 1] + row;
    }
  }
  return (x0: number, y0: number, x1: number, y1: number) =>
    s[y1 * (g + 1) + x1] - s[y0 * (g + 1) + x1] - s[y1 * (g + 1) + x0] + s[y0 * (g + 1) + x0];
}

/** Mean share of heat inside `box` over `images` (from their 16 x 16 coarse maps). */
export function heatShare(
  cls: ClassImages,
  images: number[],
  box: PixelBox,
  frame: Frame,
  coarse = 16,
): number {
  if (images.length === 0) return 0;
  const sx = frame.width / coarse;
  const sy = frame.height / coarse;
  const bx: [number, number] = [box[0], box[0] + box[2]];
  const by: [number, number] = [box[1], box[1] + box[3]];
  let total = 0;
  for (const i of images) {
    const m = cls.coarse[i];
    let all = 0;
    let inside = 0;
    for (let y = 0; y < coarse; y++) {
      const oy = overlap(by, y * sy, (y + 1) * sy) / sy;
      for (let x = 0; x < coarse; x++) {
        const v = m[y * coarse + x];
        all += v;
        if (oy > 0) inside += v * oy * (overlap(bx, x * sx, (x + 1) * sx) / sx);
      }
    }
    total += all > 0 ? inside / all : 0;
  }
  return total / images.length;
}
