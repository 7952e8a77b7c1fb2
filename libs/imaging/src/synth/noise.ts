import type { Random } from './prng.js';

/** Hermite smoothstep: 0 below e0, 1 above e1, smooth in between. */
export function smoothstep(e0: number, e1: number, x: number): number {
  const t = (x - e0) / (e1 - e0);
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  return t * t * (3 - 2 * t);
}

/**
 * Adds `amp` times a smooth value-noise field (values in [-1, 1], `cells` lattice cells across the
 * image) to `field`, a size x size image.
 */
export function addValueNoise(
  field: Float32Array,
  size: number,
  cells: number,
  amp: number,
  rng: Random,
): void {
  const n = cells + 1;
  const lattice = new Float32Array(n * n);
  for (let k = 0; k < lattice.length; k++) lattice[k] = rng.uniform(-1, 1);
  const idx = new Int32Array(size);
  const w = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    const g = ((j + 0.5) / size) * cells;
    const g0 = Math.min(cells - 1, Math.floor(g));
    const f = g - g0;
    idx[j] = g0;
    w[j] = f * f * (3 - 2 * f);
  }
  const row = new Float32Array(n);
  for (let i = 0; i < size; i++) {
    // Interpolate the two lattice rows once, then only along the row.
    const r0 = idx[i] * n;
    const wy = w[i];
    for (let c = 0; c < n; c++) {
      const top = lattice[r0 + c];
      row[c] = top + (lattice[r0 + n + c] - top) * wy;
    }
    const base = i * size;
    for (let j = 0; j < size; j++) {
      const c = idx[j];
      const left = row[c];
      field[base + j] += amp * (left + (row[c + 1] - left) * w[j]);
    }
  }
}

/**
 * A fractal (multi-octave) value-noise field, roughly in [-1, 1], written into `out` (a reused
 * size x size buffer) when given.
 */
export function fractalNoise(
  size: number,
  baseCells: number,
  octaves: number,
  rng: Random,
  out?: Float32Array,
): Float32Array {
  const field = out ?? new Float32Array(size * size);
  field.fill(0);
  let amp = 0.6;
  let cells = baseCells;
  for (let o = 0; o < octaves; o++) {
    addValueNoise(field, size, cells, amp, rng);
    amp *= 0.5;
    cells *= 2;
  }
  return field;
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
 */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269];
  const a4 = -30.66479806614716;
  const a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968;
  const c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c4) * q + c5) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a4) * r + a5) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b4) * r + 1)
  );
}

let gaussTable: Float32Array | null = null;

/** 4096 standard normal quantiles: index with 12 random bits for a cheap Gaussian deviate. */
export function gaussianTable(): Float32Array {
  if (!gaussTable) {
    gaussTable = new Float32Array(4096);
    for (let k = 0; k < 4096; k++) gaussTable[k] = normalQuantile((k + 0.5) / 4096);
  }
  return gaussTable;
}
