/**
 * Model outputs as class probabilities in the audit's class space. A single output is a yes/no
 * decision: class 1 is the output's class (probability p), class 0 its absence (1 - p), as the
 * worker's `predicted` says. Several outputs: softmax over logits, or the outputs as they are.
 */
export type Activation = 'sigmoid' | 'softmax' | 'logits';

export function classProbabilities(scores: ArrayLike<number>, activation: Activation): number[] {
  if (scores.length === 1) {
    const p = activation === 'logits' ? 1 / (1 + Math.exp(-scores[0])) : scores[0];
    return [1 - p, p];
  }
  const s = Array.from(scores);
  if (activation !== 'logits') return s;
  const max = Math.max(...s);
  const e = s.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The predicted class of probabilities: the argmax (0.5 decides a single output). */
export function predictedOf(probs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return best;
}

/**
 * The class a CAM explains: a single-output model's map explains the output (class 1); a
 * multi-output model's explains its target.
 */
export function explainedClass(numOutputs: number, target: number): number {
  return numOutputs === 1 ? 1 : target;
}
