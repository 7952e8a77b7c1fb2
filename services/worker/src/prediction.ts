import type { CompletedEvent } from '@camflow/contracts';
import {
  type CamStats,
  labelThresholds,
  type ModelCard,
  outputKind,
  predictedClass,
  predictedLabels,
} from '@camflow/imaging';

/**
 * The predicted class (imaging's `predictedClass`). Several outputs: the argmax. One output (a
 * binary classifier): a yes/no decision, 1 when the output is at or above its threshold (the
 * card's, else 0.5 for a probability; a logit goes through the sigmoid first), else 0;
 * `classes[0]` names the positive class, so `predicted: 1` means "the image shows classes[0]".
 */
export { predictedClass };

/**
 * The event's prediction: every score, the predicted class, and what the card says the outputs
 * mean (a multi-label model's predicted set and each label's threshold).
 */
export function predictionOf(
  scores: number[],
  card: ModelCard,
  target: number,
): CompletedEvent['prediction'] {
  const kind = outputKind(card);
  return {
    target,
    scores,
    predicted: predictedClass(scores, card),
    classes: card.output.classes,
    kind,
    ...(kind === 'multi-label' && { labels: predictedLabels(scores, card) }),
    ...(kind !== 'multi-class' && { thresholds: labelThresholds(card) }),
  };
}

/**
 * Imaging's statistics in the event's shape. An all-zero CAM (the model's evidence is nowhere,
 * e.g. every gradient was negative) has no peak and no entropy: it is reported with the peak at
 * the centre, entropy 0 and border energy 0, and `empty: true` so reports can tell.
 */
export function eventStats(stats: CamStats): CompletedEvent['stats'] {
  const empty = stats.peak === null;
  return {
    peak: stats.peak ?? { x: 0.5, y: 0.5, value: 0 },
    entropy: stats.entropy ?? 0,
    normalizedEntropy: stats.normalizedEntropy ?? 0,
    borderEnergy: stats.borderEnergy ?? 0,
    borderArea: stats.borderArea,
    ...(empty ? { empty: true } : {}),
  };
}

/**
 * The caption a DICOM Secondary Capture carries: the class its map explains with that class's
 * score, and, when that is not the prediction, what was predicted (a multi-label model's set).
 */
export function explainedCaption(scores: number[], card: ModelCard, target: number): string {
  const classes = card.output.classes;
  const name = (k: number) => classes[k] ?? `class ${k}`;
  const scored = (k: number) => `${name(k)} (score ${scores[k]?.toFixed(3)})`;
  // A single output is named with its score whatever the decision.
  if (scores.length === 1) return scored(0);
  if (outputKind(card) === 'multi-label') {
    const set = predictedLabels(scores, card);
    return `${scored(target)}; predicted: ${set.length ? set.map(name).join(', ') : 'none'}`;
  }
  const predicted = predictedClass(scores, card);
  return predicted === target
    ? scored(target)
    : `${scored(target)}; predicted ${scored(predicted)}`;
}
