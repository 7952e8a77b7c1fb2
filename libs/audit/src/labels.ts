const TRUE = new Set(['1', 'true', 'yes', 'positive', 'pos']);
const FALSE = new Set(['0', 'false', 'no', 'negative', 'neg']);

/**
 * A ground-truth label (a manifest's or labels.csv's: an index or a class name) in the audit's
 * class space, or undefined when it names no class. For a yes/no model (class names
 * `[not X, X]`), 1 / true / X mean class 1.
 */
export function labelToClass(
  label: number | string,
  classNames: readonly string[],
): number | undefined {
  if (typeof label === 'number')
    return Number.isInteger(label) && label >= 0 && label < classNames.length ? label : undefined;
  const s = label.trim().toLowerCase();
  const byName = classNames.findIndex((c) => c.toLowerCase() === s);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(s)) return labelToClass(Number(s), classNames);
  if (classNames.length === 2 && TRUE.has(s)) return 1;
  if (classNames.length === 2 && FALSE.has(s)) return 0;
  return undefined;
}

/** Class names in the audit's class space: a single output X gives `[not X, X]`. */
export function auditClassNames(numOutputs: number, classes: readonly string[]): string[] {
  if (numOutputs <= 1) {
    const positive = classes[0];
    return positive ? [`not ${positive}`, positive] : ['negative', 'positive'];
  }
  return Array.from({ length: numOutputs }, (_, i) => classes[i] ?? String(i));
}
