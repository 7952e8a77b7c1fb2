/**
 * "Flagged" images: the model looks somewhere suspicious. Heuristics over the per-image CAM
 * statistics the worker publishes (imaging's camStats), all thresholds configurable:
 *
 * - `border-energy`: at least `borderEnergy` (default 0.35) of the CAM's energy lies in the
 *   border band. Lungs, lesions and other anatomy sit in the middle of a chest film; burned-in
 *   text, rulers and the hospital's lead marker sit near the edges.
 * - `peak-in-border`: the CAM's peak lies within `borderBand` (default 0.1 of each side, the same
 *   band camStats measures) of an edge.
 * - `off-mask`: with a region mask (e.g. the lungs), less than `minMaskEnergy` of the energy lies
 *   inside it. Off unless `minMaskEnergy` is set.
 *
 * Note a perfectly uniform map puts about 0.36 of its energy in a 0.1 band (the band's share of
 * the area, `borderArea`), so the default energy threshold also flags maps that are spread
 * everywhere, which are suspicious in their own way (nothing in particular drove the score).
 */
export interface FlagOptions {
  borderEnergy: number;
  borderBand: number;
  minMaskEnergy?: number;
}

export const FLAG_DEFAULTS: FlagOptions = { borderEnergy: 0.35, borderBand: 0.1 };

export type FlagReason = 'border-energy' | 'peak-in-border' | 'off-mask';

/** The statistics flags look at; anything missing or null is simply not judged. */
export interface FlagStats {
  borderEnergy?: number | null;
  maskEnergy?: number | null;
  peak?: { x: number; y: number } | null;
}

/** Why an image is flagged (empty when it is not). */
export function flagReasons(
  stats: FlagStats | undefined,
  opts: FlagOptions = FLAG_DEFAULTS,
): FlagReason[] {
  if (!stats) return [];
  const out: FlagReason[] = [];
  if (isNum(stats.borderEnergy) && stats.borderEnergy >= opts.borderEnergy)
    out.push('border-energy');
  const p = stats.peak;
  const b = opts.borderBand;
  if (p && isNum(p.x) && isNum(p.y) && (p.x < b || p.x > 1 - b || p.y < b || p.y > 1 - b))
    out.push('peak-in-border');
  if (
    opts.minMaskEnergy !== undefined &&
    isNum(stats.maskEnergy) &&
    stats.maskEnergy < opts.minMaskEnergy
  )
    out.push('off-mask');
  return out;
}

/** Fills in defaults and rejects thresholds outside their range. */
export function flagOptions(partial: Partial<FlagOptions> = {}): FlagOptions {
  const o = { ...FLAG_DEFAULTS, ...partial };
  if (!(o.borderEnergy >= 0 && o.borderEnergy <= 1))
    throw new RangeError(`borderEnergy must be in [0, 1], got ${o.borderEnergy}`);
  if (!(o.borderBand >= 0 && o.borderBand <= 0.5))
    throw new RangeError(`borderBand must be in [0, 0.5], got ${o.borderBand}`);
  if (o.minMaskEnergy !== undefined && !(o.minMaskEnergy >= 0 && o.minMaskEnergy <= 1))
    throw new RangeError(`minMaskEnergy must be in [0, 1], got ${o.minMaskEnergy}`);
  return o;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
