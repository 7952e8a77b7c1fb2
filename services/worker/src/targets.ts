/**
 * Which classes a job explains: one (the job's `target`, the predicted class by default) or
 * several (`targets` on the job, else the card's, else a multi-label model's predicted label
 * set), and how the engine computes them: every class, a list or the top k in one pass for the
 * whole micro-batch, each image then keeping its own (a predicted set differs per image).
 */
import { type ExplainSettings, MAX_TARGETS, PermanentError } from '@camflow/contracts';
import {
  classIndex,
  type ModelCard,
  outputKind,
  predictedClass,
  predictedLabels,
} from '@camflow/imaging';
import type { BatchTargets, ItemResult } from './micro-batcher.js';

/** How a job with several targets is computed. */
export interface TargetPlan {
  /** What the engine computes for every image of the batch. */
  engine: BatchTargets;
  /** Each image keeps only its predicted labels (multi-label `predicted`). */
  predictedSet: boolean;
}

/**
 * The job's several targets, resolved against the card; undefined for a single target (no
 * `targets` on the job or the card, and not a multi-label model explaining its prediction).
 * Throws a PermanentError for a class the model does not have or more than MAX_TARGETS maps.
 */
export function planTargets(
  settings: Pick<ExplainSettings, 'target' | 'targets'>,
  card: ModelCard,
  model: string,
): TargetPlan | undefined {
  const kind = outputKind(card);
  const n = card.output.classes.length;
  const outputs = `${n} output${n === 1 ? '' : 's'}`;
  // A job asking for one class by index gets that class, whatever the card's default.
  const spec =
    settings.targets ??
    (settings.target === 'predicted'
      ? (card.targets ?? (kind === 'multi-label' ? 'predicted' : undefined))
      : undefined);
  if (spec === undefined) return undefined;
  if (spec === 'predicted') {
    // Every label is computed and each image keeps those over their thresholds; past
    // MAX_TARGETS labels, the highest-scoring ones (a set that large is not read per label).
    if (kind === 'multi-label') {
      return { engine: n <= MAX_TARGETS ? 'all' : { top: MAX_TARGETS }, predictedSet: true };
    }
    // The argmax (a binary model's one output), as a one-map list so that `cams` names it.
    return { engine: { top: 1 }, predictedSet: false };
  }
  if (spec === 'all') {
    if (n > MAX_TARGETS) {
      throw new PermanentError(
        'invalid-target',
        `targets "all": ${model} has ${outputs}, more than the ${MAX_TARGETS} CAMs an image may have; give a list or {"top": k}`,
      );
    }
    return { engine: 'all', predictedSet: false };
  }
  if (!Array.isArray(spec)) {
    return { engine: { top: Math.min(spec.top, n, MAX_TARGETS) }, predictedSet: false };
  }
  const list: number[] = [];
  for (const t of spec) {
    const i = classIndex(card, t);
    if (i === undefined) {
      throw new PermanentError(
        'invalid-target',
        `target ${JSON.stringify(t)} is not a class of ${model} (${outputs}: ${card.output.classes.join(', ')})`,
      );
    }
    if (!list.includes(i)) list.push(i);
  }
  if (list.length > MAX_TARGETS) {
    throw new PermanentError(
      'invalid-target',
      `${list.length} targets: at most ${MAX_TARGETS} CAMs per image`,
    );
  }
  return { engine: list, predictedSet: false };
}

/** One explained class of an image. */
export interface ChosenTarget {
  target: number;
  score: number;
  cam: { data: Float32Array; width: number; height: number };
}

/**
 * The maps an image keeps: the one map of a single-target job; every computed map; or, for a
 * predicted set, the labels over their thresholds (none: the top label, so that an image with
 * no finding still shows where its highest score comes from).
 */
export function chooseTargets(
  r: ItemResult,
  plan: TargetPlan | undefined,
  card: ModelCard,
): ChosenTarget[] {
  const many = r.perTarget;
  if (!plan || !many) {
    return [{ target: r.target, score: r.scores[r.target] ?? r.scores[0], cam: r.cam }];
  }
  const all = many.classes.map((target, k) => ({
    target,
    score: many.scores[k],
    cam: many.cams[k],
  }));
  if (!plan.predictedSet) return all;
  const labels = predictedLabels(r.scores, card);
  const kept = all.filter((t) => labels.includes(t.target));
  if (kept.length > 0) return kept;
  const top = predictedClass(r.scores, card);
  return all.filter((t) => t.target === top);
}
