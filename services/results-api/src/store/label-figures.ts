/**
 * Figures per class against the ground truth, for each kind of model:
 *
 * - multi-label: per label, against the label sets of the manifest (`labels`): prevalence (share
 *   of labelled images that have it), how often it is predicted, sensitivity TP / (TP + FN),
 *   specificity TN / (TN + FP) at the label's threshold, and ROC AUC of its score (the
 *   probability that a random positive scores above a random negative, ties counting one half),
 *   where both positives and negatives exist;
 * - multi-class: the same per class, one class against the rest (predicted = the argmax), plus
 *   accuracy and the confusion matrix;
 * - binary: the same for the one class.
 *
 * A confusion matrix of 14 labels says nothing about a multi-label model (its images have
 * several labels) and one of 14 classes does not fit a screen: these tables do.
 */
import type { CompletedEvent } from '@camflow/contracts';
import { classNames, labelIndex, predictedIndex } from './labels.js';

/** One class's (or label's) figures. */
export interface ClassFigures {
  class: number;
  name: string;
  /** Multi-label and binary: the decision threshold (probability). */
  threshold?: number;
  /** Labelled images, images with the class in their ground truth, images predicted as it. */
  images: number;
  positives: number;
  predicted: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  prevalence: number | null;
  sensitivity: number | null;
  specificity: number | null;
  auc: number | null;
}

/** What `labelFigures` gives a run's results. */
export interface LabelFigures {
  kind: 'binary' | 'multi-class' | 'multi-label';
  /** Results with a usable ground truth, and those whose labels named no class. */
  labelled: number;
  unreadable: number;
  /** Multi-class and binary: the share of labelled images whose prediction is the label. */
  accuracy?: number | null;
  /** Multi-class: rows = label, columns = prediction. */
  matrix?: number[][];
  /** Multi-label: images whose predicted set equals their label set. */
  exactMatch?: number | null;
  classes: ClassFigures[];
}

type Kind = LabelFigures['kind'];

/** The kind of a result's model, from what its event says (older events: by their outputs). */
export function kindOf(e: CompletedEvent): Kind {
  const p = e.prediction;
  if (p.kind) return p.kind;
  return p.scores.length <= 1 ? 'binary' : 'multi-class';
}

/** A result's ground truth as a set of output indices (undefined: none, or none readable). */
function truthSet(e: CompletedEvent, names: string[]): Set<number> | undefined {
  const raw = e.labels ?? (e.label !== undefined ? [e.label] : undefined);
  if (raw === undefined) return undefined;
  const out = new Set<number>();
  for (const l of raw) {
    const i = labelIndex(l, names);
    if (i === undefined) return undefined;
    out.add(i);
  }
  return out;
}

/**
 * ROC AUC from ranks (Mann-Whitney U): the positives' rank sum with tied scores sharing their
 * mean rank. Null without both positives and negatives.
 */
export function rocAuc(scores: number[], positive: boolean[]): number | null {
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  if (pos === 0 || neg === 0) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j + 2) / 2; // ranks are 1-based; the tie group shares the mean
    for (let k = i; k <= j; k++) if (positive[order[k]]) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function figures(
  k: number,
  name: string,
  truth: boolean[],
  predicted: boolean[],
  scores: number[],
  threshold?: number,
): ClassFigures {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  truth.forEach((t, i) => {
    if (t && predicted[i]) tp++;
    else if (t) fn++;
    else if (predicted[i]) fp++;
    else tn++;
  });
  const n = truth.length;
  return {
    class: k,
    name,
    ...(threshold !== undefined && { threshold }),
    images: n,
    positives: tp + fn,
    predicted: tp + fp,
    tp,
    fp,
    fn,
    tn,
    prevalence: ratio(tp + fn, n),
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    auc: rocAuc(scores, truth),
  };
}

/**
 * Per-class figures of labelled results (the model, hence the classes, from the first labelled
 * one; results of another shape are left out). Undefined without labelled results.
 */
export function labelFigures(events: CompletedEvent[]): LabelFigures | undefined {
  let names: string[] | undefined;
  let kind: Kind = 'multi-class';
  let thresholds: number[] | undefined;
  const rows: { truth: Set<number>; scores: number[]; predicted: Set<number> }[] = [];
  let unreadable = 0;
  for (const e of events) {
    if (e.label === undefined && e.labels === undefined) continue;
    const own = classNames(e.prediction);
    if (!names) {
      names = own;
      kind = kindOf(e);
      thresholds = e.prediction.thresholds;
    }
    if (own.length !== names.length) continue;
    const truth = truthSet(e, names);
    if (!truth) {
      unreadable++;
      continue;
    }
    const p = e.prediction;
    const predicted =
      kind === 'multi-label' ? new Set(p.labels ?? []) : new Set([predictedIndex(p)]);
    // A yes/no model's "classes" are [not X, X]: its score is X's probability.
    const scores =
      kind === 'binary' ? [1 - (p.scores[0] ?? 0), p.scores[0] ?? 0] : p.scores.slice();
    rows.push({ truth, scores, predicted });
  }
  if (!names || rows.length === 0) return undefined;
  const list = kind === 'binary' ? [1] : names.map((_, k) => k);
  const classes = list.map((k) =>
    figures(
      k,
      names![k],
      rows.map((r) => r.truth.has(k)),
      rows.map((r) => r.predicted.has(k)),
      rows.map((r) => r.scores[k]),
      kind === 'multi-class' ? undefined : thresholds?.[kind === 'binary' ? 0 : k],
    ),
  );
  const out: LabelFigures = { kind, labelled: rows.length, unreadable, classes };
  if (kind === 'multi-label') {
    const same = (a: Set<number>, b: Set<number>) =>
      a.size === b.size && [...a].every((x) => b.has(x));
    out.exactMatch = rows.filter((r) => same(r.truth, r.predicted)).length / rows.length;
  } else {
    const n = names.length;
    const matrix = names.map(() => names!.map(() => 0));
    let correct = 0;
    for (const r of rows) {
      const t = [...r.truth][0];
      const p = [...r.predicted][0];
      if (r.truth.size !== 1 || t >= n || p >= n) continue;
      matrix[t][p]++;
      if (t === p) correct++;
    }
    out.accuracy = correct / rows.length;
    out.matrix = matrix;
  }
  return out;
}
