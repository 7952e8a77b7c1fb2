/**
 * What a model's outputs mean, as its card says: one yes/no output (`binary`), one class per
 * image (`multi-class`: the argmax), or any set of labels (`multi-label`: each output over its
 * own threshold, as chest X-ray models with 14 findings are used).
 */
import type { ModelCard } from './card.js';

export type OutputKind = 'binary' | 'multi-class' | 'multi-label';

type Output = Pick<ModelCard, 'output'>;

/** The card's `output.type`, else: one output binary, several sigmoids multi-label, else multi-class. */
export function outputKind(card: Output): OutputKind {
  const o = card.output;
  if (o.type) return o.type;
  if (o.classes.length === 1) return 'binary';
  return o.activation === 'sigmoid' ? 'multi-label' : 'multi-class';
}

/** One decision threshold per output, as probabilities (default 0.5). */
export function labelThresholds(card: Output): number[] {
  const { classes, thresholds: t } = card.output;
  if (typeof t === 'number') return classes.map(() => t);
  if (Array.isArray(t)) return classes.map((_, i) => t[i] ?? 0.5);
  return classes.map((c) => t?.[c] ?? 0.5);
}

/** An output as a probability of its label: a logit through the sigmoid, else as it is. */
export function labelProbability(score: number, activation: ModelCard['output']['activation']) {
  return activation === 'logits' ? 1 / (1 + Math.exp(-score)) : score;
}

/** Indices of the labels at or above their thresholds (multi-label; binary: [0] or []). */
export function predictedLabels(scores: ArrayLike<number>, card: Output): number[] {
  const t = labelThresholds(card);
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (labelProbability(scores[i], card.output.activation) >= (t[i] ?? 0.5)) out.push(i);
  }
  return out;
}

/**
 * The `predicted` index results have always carried. Binary: 1 when the output is at or above
 * its threshold (`classes[0]` present), else 0. Otherwise the argmax (for a multi-label model,
 * the top label; its predicted set is `predictedLabels`).
 */
export function predictedClass(scores: ArrayLike<number>, card: Output): number {
  if (scores.length === 1) return predictedLabels(scores, card).length;
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/**
 * A class given by name (case-insensitive) or index, as an output index; undefined when the
 * card has no such class. A binary model's one class is index 0.
 */
export function classIndex(card: Output, nameOrIndex: string | number): number | undefined {
  const n = card.output.classes.length;
  if (typeof nameOrIndex === 'number')
    return Number.isInteger(nameOrIndex) && nameOrIndex >= 0 && nameOrIndex < n
      ? nameOrIndex
      : undefined;
  const s = nameOrIndex.trim();
  const exact = card.output.classes.indexOf(s);
  if (exact >= 0) return exact;
  const lower = card.output.classes.findIndex((c) => c.toLowerCase() === s.toLowerCase());
  if (lower >= 0) return lower;
  return /^\d+$/.test(s) ? classIndex(card, Number(s)) : undefined;
}

/** Why a CAM is zero everywhere: the reason code and a sentence for people. */
export interface EmptyCamReason {
  reason: 'saturated' | 'no-evidence';
  message: string;
}

/**
 * The likely reason an explained class's CAM is all zero. A probability of exactly 0 or 1 (a
 * saturated sigmoid or softmax, as float32 rounds it) has a zero gradient, so every
 * gradient-based map is empty; otherwise the layer holds no evidence for the class (every
 * location's weighted activation is negative and the ReLU leaves nothing).
 */
export function emptyCamReason(
  className: string,
  score: number,
  activation: ModelCard['output']['activation'],
): EmptyCamReason {
  const saturated = activation !== 'logits' && (score >= 1 - 1e-7 || score <= 1e-30);
  if (saturated) {
    return {
      reason: 'saturated',
      message: `the ${className} score is ${score} (a saturated ${activation}: its gradient is 0 in float32, so the map is empty); explain the logit instead (explain --score logit), or export the model without its final ${activation} (activation "logits")`,
    };
  }
  return {
    reason: 'no-evidence',
    message: `nothing at this layer raises the ${className} score (${score.toPrecision(4)}): every location's weighted evidence is negative and the ReLU leaves nothing`,
  };
}
