import type { CompletedEvent } from '@camflow/contracts';

/** Binary outcome of a labelled image; multi-class results are just right or wrong. */
export type Outcome = 'TP' | 'FP' | 'FN' | 'TN' | 'correct' | 'wrong';

type Prediction = CompletedEvent['prediction'];

/**
 * Class names by predicted index. A single output is a yes/no decision whose `classes[0]` (if
 * any) names the positive class, so index 1 is that class and index 0 its absence.
 */
export function classNames(p: Prediction): string[] {
  if (p.scores.length <= 1) {
    const positive = p.classes?.[0];
    return positive ? [`not ${positive}`, positive] : ['negative', 'positive'];
  }
  if (p.classes && p.classes.length === p.scores.length) return p.classes;
  return p.scores.map((_, i) => String(i));
}

/** The predicted class index (the worker decides, with the model card's threshold). */
export function predictedIndex(p: Prediction): number {
  return p.predicted;
}

const TRUE = new Set(['true', 'yes', 'positive', 'pos']);
const FALSE = new Set(['false', 'no', 'negative', 'neg']);

/** A manifest label as a class index, or undefined when it names no class. */
export function labelIndex(label: number | string, classes: string[]): number | undefined {
  if (typeof label === 'number') return label >= 0 && label < classes.length ? label : undefined;
  const s = label.trim();
  const byName = classes.findIndex((c) => c.toLowerCase() === s.toLowerCase());
  if (byName >= 0) return byName;
  if (/^\d+$/.test(s)) return labelIndex(Number(s), classes);
  if (classes.length === 2 && TRUE.has(s.toLowerCase())) return 1;
  if (classes.length === 2 && FALSE.has(s.toLowerCase())) return 0;
  return undefined;
}

/** The outcome of a labelled result (undefined without a usable label). */
export function outcomeOf(e: CompletedEvent): Outcome | undefined {
  if (e.label === undefined) return undefined;
  const classes = classNames(e.prediction);
  const truth = labelIndex(e.label, classes);
  if (truth === undefined) return undefined;
  const pred = predictedIndex(e.prediction);
  if (classes.length > 2) return pred === truth ? 'correct' : 'wrong';
  if (pred === 1) return truth === 1 ? 'TP' : 'FP';
  return truth === 1 ? 'FN' : 'TN';
}

/** Accuracy and confusion matrix (rows = label, columns = prediction) of labelled results. */
export interface Evaluation {
  labelled: number;
  correct: number;
  accuracy: number | null;
  classes: string[];
  matrix: number[][];
}

/** Evaluates results against their labels; the class list comes from the first labelled one. */
export function evaluate(events: CompletedEvent[]): Evaluation | undefined {
  let classes: string[] | undefined;
  let matrix: number[][] = [];
  let labelled = 0;
  let correct = 0;
  for (const e of events) {
    if (e.label === undefined) continue;
    const names = classNames(e.prediction);
    if (!classes) {
      classes = names;
      matrix = names.map(() => names.map(() => 0));
    }
    if (names.length !== classes.length) continue;
    const truth = labelIndex(e.label, classes);
    if (truth === undefined) continue;
    const pred = predictedIndex(e.prediction);
    labelled++;
    if (pred === truth) correct++;
    if (matrix[truth] && pred < classes.length) matrix[truth][pred]++;
  }
  if (!classes || labelled === 0) return undefined;
  return { labelled, correct, accuracy: correct / labelled, classes, matrix };
}
