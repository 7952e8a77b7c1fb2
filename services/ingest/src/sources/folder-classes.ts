/**
 * Which folder names name which class, decided once when a run is created: the request's
 * `labels.classes`, else the model card's `output.classes`. A single-output model's one class is
 * the positive one (index 1, as the results and the audit count it); its negative images' folder
 * (NORMAL, normal, negative, healthy, ...) is never guessed: it must be mapped to 0 explicitly.
 */
import type { FolderLabels } from '@camflow/contracts';
import { FolderClasses } from './folder-labels.js';

/** What the model card says about its outputs (loosely read: only `output.classes`). */
export interface CardClasses {
  classes?: string[];
}

/** Reads `output.classes` from a card's JSON, if it has any. */
export function cardClasses(card: unknown): CardClasses {
  const classes = (card as { output?: { classes?: unknown } } | undefined)?.output?.classes;
  return Array.isArray(classes) && classes.every((c) => typeof c === 'string' && c.length > 0)
    ? { classes: classes as string[] }
    : {};
}

/** A request's folder labels that cannot work with this model; `message` says why. */
export class FolderClassesError extends Error {
  override name = 'FolderClassesError';
}

export interface ResolvedClasses {
  classes: Record<string, number>;
  /** How to map folders that name no class (for the survey's message). */
  hint: string;
}

/** Resolves (and checks) a run's folder classes against the model's card. */
export function resolveFolderClasses(
  labels: FolderLabels,
  card: CardClasses,
  model: string,
): ResolvedClasses {
  const names = card.classes ?? [];
  const single = names.length === 1;
  const outputs = single ? 2 : names.length;
  const example = single
    ? `{"NORMAL": 0, "${names[0].toUpperCase()}": 1}`
    : names.length > 1
      ? `{${names
          .slice(0, 3)
          .map((n, i) => `"${n.toUpperCase()}": ${i}`)
          .join(', ')}}`
      : '{"NORMAL": 0, "PNEUMONIA": 1}';
  const hint = single
    ? `${model} has one output, "${names[0]}" (class 1); the folder of its negatives (NORMAL, negative, healthy...) is never guessed: map it to 0, e.g. labels.classes ${example}`
    : `map each folder to a class index in labels.classes, e.g. ${example}, or leave it out of the source`;
  let classes: Record<string, number>;
  if (labels.classes) {
    classes = labels.classes;
    if (outputs > 0) {
      const bad = Object.entries(classes).filter(([, i]) => i >= outputs);
      if (bad.length)
        throw new FolderClassesError(
          `labels.classes: ${bad.map(([n, i]) => `${n}=${i}`).join(', ')} out of range: ${model} has ${
            single
              ? `one output (classes 0 = not ${names[0]}, 1 = ${names[0]})`
              : `${outputs} classes (0-${outputs - 1})`
          }`,
        );
    }
  } else if (single) {
    classes = { [names[0]]: 1 };
  } else if (names.length > 1) {
    classes = Object.fromEntries(names.map((n, i) => [n, i]));
  } else {
    throw new FolderClassesError(
      `the card of ${model} names no classes (output.classes): give labels.classes, e.g. ${example}`,
    );
  }
  try {
    new FolderClasses(classes);
  } catch (err) {
    throw new FolderClassesError((err as Error).message);
  }
  return { classes, hint };
}
