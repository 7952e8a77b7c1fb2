import type { CompletedEvent } from '@camflow/contracts';
import type { CamStats, ModelCard } from '@camflow/imaging';

/**
 * The predicted class. Several outputs: the argmax. One output (a binary classifier): a yes/no
 * decision, 1 when the output is at or above its threshold (0.5 for a sigmoid probability, 0
 * for a raw logit), else 0; `classes[0]` names the positive class, so `predicted: 1` means "the
 * image shows classes[0]".
 */
export function predictedClass(scores: readonly number[], card: ModelCard): number {
  if (scores.length === 1) {
    const threshold = card.output.activation === 'logits' ? 0 : 0.5;
    return scores[0] >= threshold ? 1 : 0;
  }
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
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
