import type { CamAlignment } from '@camflow/imaging';
/** Audit figures for a model on a synthetic data set with ground truth (`camflow evaluate`). */
export interface ImageOutcome {
  label: 0 | 1;
  predicted: 0 | 1;
  hasMarker: boolean;
  /** The CAM peak lies in the lesion mask (positives). */
  peakInLesion: boolean | null;
  /** The region of the CAM's hottest cell (at the layer's resolution) touches the lesion. */
  peakCellInLesion?: boolean | null;
  /** The CAM peak lies within the tolerance (pixels) of the lesion: Zhang et al.'s pointing game. */
  peakNearLesion?: boolean | null;
  lesionEnergy: number | null;
  peakOnMarker: boolean | null;
  peakCellOnMarker?: boolean | null;
  peakNearMarker?: boolean | null;
  markerEnergy: number | null;
  borderEnergy: number | null;
}

export interface Evaluation {
  images: number;
  /** Pixels (original image) of the tolerant pointing game (`nearRate`). */
  tolerance: number;
  accuracy: number;
  confusion: { tp: number; fp: number; fn: number; tn: number };
  /** Fraction of positive images whose CAM peak falls inside the lesion mask. */
  pointingGame: {
    positives: number;
    hits: number;
    rate: number;
    cellRate: number;
    /** Peak within `tolerance` pixels of the lesion (Zhang et al. 2016 count 15 px). */
    nearRate: number;
  };
  /** Mean fraction of CAM energy inside the lesion mask, over positives. */
  lesionEnergy: number;
  /** Over images carrying a marker: how often the CAM peak is on it. */
  markerPeak: {
    withMarker: number;
    onMarker: number;
    rate: number;
    cellRate: number;
    nearRate: number;
  };
  markerEnergy: number;
  borderEnergy: number;
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
};

/** Aggregates per-image outcomes. */
export function summarise(outcomes: ImageOutcome[], tolerance = 15): Evaluation {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const o of outcomes) {
    if (o.label === 1) o.predicted === 1 ? c.tp++ : c.fn++;
    else o.predicted === 1 ? c.fp++ : c.tn++;
  }
  const positives = outcomes.filter((o) => o.label === 1);
  const hits = positives.filter((o) => o.peakInLesion === true).length;
  const marked = outcomes.filter((o) => o.hasMarker);
  const onMarker = marked.filter((o) => o.peakOnMarker === true).length;
  const rate = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  return {
    images: outcomes.length,
    tolerance,
    accuracy: rate(c.tp + c.tn, outcomes.length),
    confusion: c,
    pointingGame: {
      positives: positives.length,
      hits,
      rate: rate(hits, positives.length),
      cellRate: rate(positives.filter((o) => o.peakCellInLesion === true).length, positives.length),
      nearRate: rate(positives.filter((o) => o.peakNearLesion === true).length, positives.length),
    },
    lesionEnergy: mean(positives.map((o) => o.lesionEnergy)),
    markerPeak: {
      withMarker: marked.length,
      onMarker,
      rate: rate(onMarker, marked.length),
      cellRate: rate(marked.filter((o) => o.peakCellOnMarker === true).length, marked.length),
      nearRate: rate(marked.filter((o) => o.peakNearMarker === true).length, marked.length),
    },
    markerEnergy: mean(marked.map((o) => o.markerEnergy)),
    borderEnergy: mean(outcomes.map((o) => o.borderEnergy)),
  };
}

/** What `evaluate` ran with: the layer and how its CAM was drawn (`--json` carries both). */
export interface EvaluationSettings {
  layer: string;
  align: { requested: CamAlignment; applied: CamAlignment };
}

/** The same figures as text. */
export function formatEvaluation(
  model: string,
  e: Evaluation,
  settings?: EvaluationSettings,
): string {
  const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
  const { tp, fp, fn, tn } = e.confusion;
  return [
    `model ${model}: ${e.images} images` +
      (settings ? `, layer ${settings.layer}, CAM drawn with align ${settings.align.applied}` : ''),
    `  accuracy          ${pct(e.accuracy)}   (TP ${tp}, FP ${fp}, FN ${fn}, TN ${tn})`,
    `  pointing game     ${pct(e.pointingGame.rate)}   (CAM peak inside the lesion on ${e.pointingGame.hits} of ${e.pointingGame.positives} positives; hottest layer cell on it: ${pct(e.pointingGame.cellRate)}; peak within ${e.tolerance} px: ${pct(e.pointingGame.nearRate)})`,
    `  lesion energy     ${f(e.lesionEnergy)}   (mean CAM energy inside the lesion, positives)`,
    `  peak on marker    ${pct(e.markerPeak.rate)}   (${e.markerPeak.onMarker} of ${e.markerPeak.withMarker} images with a marker; hottest layer cell on it: ${pct(e.markerPeak.cellRate)}; peak within ${e.tolerance} px: ${pct(e.markerPeak.nearRate)})`,
    `  marker energy     ${f(e.markerEnergy)}   (mean CAM energy on the marker)`,
    `  border energy     ${f(e.borderEnergy)}   (mean CAM energy in the 10% border band)`,
  ].join('\n');
}
