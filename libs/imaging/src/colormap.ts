/**
 * 256-entry colormaps, computed at load time from their published definitions:
 * - jet: matplotlib's segment control points, interpolated the way matplotlib builds its
 *   lookup table (so it equals `cm.jet`, the seed's colormap);
 * - turbo, viridis, inferno: control points of the published tables, interpolated linearly;
 * - gray: identity.
 */

/** The colormap names `colormapLut` and the overlay options accept. */
export const COLORMAPS = ['jet', 'turbo', 'viridis', 'inferno', 'gray'] as const;
export type ColormapName = (typeof COLORMAPS)[number];

/** [x, value] control points of one channel (matplotlib segment data with y0 = y1). */
type Segments = [number, number][];

const JET: Record<'r' | 'g' | 'b', Segments> = {
  r: [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  g: [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  b: [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
};

/** matplotlib's `_create_lookup_table`: entry i sits at x = i / (n - 1), linear in between. */
function segmentLut(points: Segments, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = i / (n - 1);
    let k = 1;
    while (k < points.length - 1 && points[k][0] < x) k++;
    const [x0, y0] = points[k - 1];
    const [x1, y1] = points[k];
    out[i] = Math.min(1, Math.max(0, y0 + ((x - x0) / (x1 - x0)) * (y1 - y0)));
  }
  return out;
}

/**
 * 33 control points per map (8-bit RGB, hex), at table entries round(k * 255 / 32), sampled from
 * the published 256-entry tables: Google's Turbo (2019) and matplotlib's viridis and inferno
 * (van der Walt & Smith, CC0). Linear interpolation between them stays within 3/255 of the
 * tables (polynomial fits miss Turbo's dark end by 32/255).
 */
const KNOTS: Record<'turbo' | 'viridis' | 'inferno', string> = {
  turbo:
    '30123b392a734040a24456c7466be34680f64294ff37a8fa28bceb1ccdd818ddc21fe9af32f2984ef97d6dfe628b' +
    'ff4ba4fc3cb7f735cbed34dde037ecd13af7c13afdae35fe992cfb8122f56918ec530fe14109d23105c12302ac1701' +
    '950d017a0403',
  viridis:
    '440154470d6048186a482374472d7b4537814240863e49893b528b375b8d33638d2f6b8e2c728e297a8e26828e23' +
    '898e21918c1f978b1f9f8821a68527ad8131b57b3dbc744cc26c5cc8636ece5881d34d95d840aadc32c0df25d5e2' +
    '1aeae51afde725',
  inferno:
    '0000040403120b0724150b37210c4a2f0a5b3d09654a0c6b57106e64156e71196e7d1e6d8a226a972766a32c61b0' +
    '315bbc3754c63d4dd04545da4e3ce35933eb6429f1711ff67e14f98c0afb9b06fcaa0ffbba1ff9c932f5d949f2e8' +
    '65f3f586fcffa4',
};

function knotLut(hex: string): (i: number) => [number, number, number] {
  const knots = Array.from({ length: 33 }, (_, k) =>
    [0, 1, 2].map((c) => Number.parseInt(hex.slice(k * 6 + c * 2, k * 6 + c * 2 + 2), 16) / 255),
  );
  const at = knots.map((_, k) => Math.round((k * 255) / 32));
  return (i) => {
    let k = 1;
    while (at[k] < i) k++;
    const f = (i - at[k - 1]) / (at[k] - at[k - 1]);
    const [a, b] = [knots[k - 1], knots[k]];
    return [0, 1, 2].map((c) => a[c] + f * (b[c] - a[c])) as [number, number, number];
  };
}

function build(name: ColormapName): Float32Array {
  const lut = new Float32Array(256 * 3);
  const set = (channel: (t: number, i: number) => [number, number, number]) => {
    for (let i = 0; i < 256; i++) {
      const rgb = channel(i / 255, i);
      for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.min(1, Math.max(0, rgb[c]));
    }
  };
  switch (name) {
    case 'jet': {
      const [r, g, b] = [segmentLut(JET.r, 256), segmentLut(JET.g, 256), segmentLut(JET.b, 256)];
      set((_, i) => [r[i], g[i], b[i]]);
      break;
    }
    case 'gray':
      set((t) => [t, t, t]);
      break;
    default: {
      const entry = knotLut(KNOTS[name]);
      set((_, i) => entry(i));
    }
  }
  return lut;
}

const cache = new Map<ColormapName, Float32Array>();

/** The colormap's 256 RGB entries in [0, 1] (entry i is for value i / 255), interleaved. */
export function colormapLut(name: ColormapName): Float32Array {
  if (!COLORMAPS.includes(name)) {
    throw new RangeError(`unknown colormap '${name}': use one of ${COLORMAPS.join(', ')}`);
  }
  let lut = cache.get(name);
  if (!lut) {
    lut = build(name);
    cache.set(name, lut);
  }
  return lut;
}

/** matplotlib's lookup of a value in [0, 1]: index floor(v * 256), 1.0 to the last entry. */
export function colormapIndex(v: number): number {
  if (!(v > 0)) return 0; // also NaN
  return Math.min(255, Math.floor(v * 256));
}

/**
 * Precomputed `colormapIndex(clamp(h, 0, 1) ** gamma)` for float32 heat values `h`, without a
 * `pow` per pixel (which costs ~70 ms per megapixel for a gamma other than 1 or 2): the index is
 * a non-decreasing step function of h, so a coarse table gives a lower bound and the exact
 * thresholds (the smallest float32 reaching each index, found by bisection over the same
 * expression) finish it. Equal to the direct formula for every float32 value.
 */
export interface HeatIndexer {
  /** `coarse[q]` = the index of q / 4096, q = 0 .. 4096. */
  coarse: Uint8Array;
  /** `thresholds[k]`: the smallest float32 h in [0, 1] whose index is at least k (else Infinity). */
  thresholds: Float64Array;
  gamma: number;
}

/** The direct formula the indexer reproduces. */
export function heatIndex(h: number, gamma: number): number {
  return colormapIndex(Math.min(1, Math.max(0, h)) ** gamma);
}

const COARSE = 4096;
const indexers = new Map<number, HeatIndexer>();

/**
 * The indexer for `gamma`, or undefined when gamma is not a finite positive number (then the
 * index is not monotonic in h; use `heatIndex`).
 */
export function heatIndexer(gamma: number): HeatIndexer | undefined {
  if (!(gamma > 0 && Number.isFinite(gamma))) return undefined;
  let ix = indexers.get(gamma);
  if (ix) return ix;
  const coarse = new Uint8Array(COARSE + 1);
  for (let q = 0; q <= COARSE; q++) coarse[q] = heatIndex(q / COARSE, gamma);
  const thresholds = new Float64Array(257).fill(Number.POSITIVE_INFINITY);
  thresholds[0] = 0;
  // Bisection over float32 bit patterns: for non-negative floats, their order is the values'.
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const at = (bits: number) => {
    u32[0] = bits;
    return f32[0];
  };
  const one = 0x3f800000;
  for (let k = 1; k <= 255; k++) {
    if (heatIndex(1, gamma) < k) break;
    let lo = 0; // index(lo) < k, unless lo is 0 and already reaches k
    let hi = one; // index(hi) >= k
    if (heatIndex(0, gamma) >= k) {
      thresholds[k] = 0;
      continue;
    }
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (heatIndex(at(mid), gamma) >= k) hi = mid;
      else lo = mid;
    }
    thresholds[k] = at(hi);
  }
  ix = { coarse, thresholds, gamma };
  if (indexers.size > 32) indexers.clear();
  indexers.set(gamma, ix);
  return ix;
}

/** `heatIndex(h, ix.gamma)` through the tables (for float32 values of h). */
export function indexHeat(h: number, ix: HeatIndexer): number {
  if (!(h > 0)) return ix.coarse[0]; // also NaN, which the direct formula maps to entry 0
  const c = Math.min(h, 1);
  let k = ix.coarse[(c * COARSE) | 0];
  while (k < 255 && c >= ix.thresholds[k + 1]) k++;
  return k;
}
