/**
 * `camflow audit <dir> --labels folder`: each image's label is the nearest folder that names a
 * class (`--classes`, else the card's class names, case-insensitively), as ingest reads an S3
 * prefix: a folder naming no class stops the audit with counts and examples (never guessed);
 * what else the survey reports (empty splits, splits missing a class, mixed extensions) is warned.
 */
import { relative, resolve, sep } from 'node:path';
import {
  cardClasses,
  FolderClasses,
  FolderClassesError,
  FolderSurvey,
  type LayoutSurvey,
  placeKey,
  resolveFolderClasses,
  surveyError,
  surveyWarnings,
} from '@camflow/ingest';
import { asOption } from '../dataset/folder-source.js';
import { UsageError } from '../usage.js';

/** The file's path under the folder given that holds it (else as given), with `/`. */
function keyOf(file: string, roots: string[]): string {
  const abs = resolve(file);
  for (const r of roots) {
    const rel = relative(resolve(r), abs);
    if (rel && !rel.startsWith('..')) return rel.split(sep).join('/');
  }
  return file.split(sep).join('/');
}

export function folderLabels(
  files: string[],
  roots: string[],
  card: unknown,
  model: string,
  classes: Record<string, number> | undefined,
): { labels: Map<string, string>; survey: LayoutSurvey } {
  let resolved: { classes: Record<string, number>; hint: string };
  try {
    resolved = resolveFolderClasses({ from: 'folder', classes }, cardClasses(card), model);
  } catch (err) {
    if (err instanceof FolderClassesError) throw new UsageError(asOption(err.message));
    throw err;
  }
  const fc = new FolderClasses(resolved.classes);
  const survey = new FolderSurvey(fc);
  const labels = new Map<string, string>();
  for (const f of files) {
    const key = keyOf(f, roots);
    survey.addKey(key, true);
    const place = placeKey(key, fc, true);
    if (place.kind === 'image') labels.set(f, String(place.label));
  }
  const s = survey.result();
  const error = surveyError(s, asOption(resolved.hint));
  if (error) throw new UsageError(error);
  for (const w of surveyWarnings(s)) process.stderr.write(`camflow: warning: ${w}\n`);
  return { labels, survey: s };
}
