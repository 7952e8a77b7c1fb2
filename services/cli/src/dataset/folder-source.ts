/**
 * A folder-labelled source as the CLI sees it before any run exists: the survey (the same one
 * ingest makes, so both agree on labels, splits and problems), the classes it uses, and one run
 * per split folder. Local files count as images when their bytes are one and their names say so
 * (ingest only sees names).
 */
import { modelKeys, parseModelRef } from '@camflow/contracts';
import {
  cardClasses,
  FolderClasses,
  FolderClassesError,
  FolderSurvey,
  type LayoutSurvey,
  looksLikeImage,
  type ResolvedClasses,
  resolveFolderClasses,
} from '@camflow/ingest';
import type { ObjectStore } from '@camflow/storage';
import { UsageError } from '../usage.js';
import type { LocalTree } from './local-tree.js';

/** `--classes NORMAL=0,PNEUMONIA=1`. */
export function parseClasses(value: string | undefined): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^(.+)=(\d+)$/.exec(part.trim());
    if (!m)
      throw new UsageError(
        `--classes: expected FOLDER=index,... (e.g. NORMAL=0,PNEUMONIA=1), got "${part}"`,
      );
    out[m[1].trim()] = Number(m[2]);
  }
  return out;
}

/** The classes a run will use: `--classes`, else the card's (read from the model bucket). */
export async function folderClasses(
  store: ObjectStore,
  modelBucket: string,
  model: string,
  classes: Record<string, number> | undefined,
): Promise<ResolvedClasses> {
  let card: unknown;
  try {
    const { body } = await store.get(modelBucket, modelKeys(parseModelRef(model)).card, {
      maxBytes: 4 * 1024 * 1024,
    });
    card = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    // Without the card, --classes still works (ingest checks them against the card).
    if (!classes)
      throw new UsageError(
        `cannot read the card of ${model} from s3://${modelBucket}: ${(err as Error).message.split('\n')[0]}; give --classes FOLDER=index,...`,
      );
  }
  try {
    const r = resolveFolderClasses({ from: 'folder', classes }, cardClasses(card), model);
    return { ...r, hint: asOption(r.hint) };
  } catch (err) {
    if (err instanceof FolderClassesError) throw new UsageError(asOption(err.message));
    throw err;
  }
}

/** Ingest's wording (`labels.classes {"NORMAL": 0}`) as the CLI's option (`--classes NORMAL=0`). */
export function asOption(text: string): string {
  return text
    .replaceAll('labels.classes', '--classes')
    .replace(/\{((?:"[^"]*": \d+(?:, )?)+)\}/g, (_, list: string) =>
      [...list.matchAll(/"([^"]*)": (\d+)/g)].map((m) => `${m[1]}=${m[2]}`).join(','),
    );
}

/** The survey of a local folder as it will be under `prefix`. */
export function surveyLocal(
  tree: LocalTree,
  prefix: string,
  classes: Record<string, number>,
): LayoutSurvey {
  const s = new FolderSurvey(new FolderClasses(classes));
  for (const d of tree.folders) s.addFolder(`${prefix}${d}`);
  for (const f of tree.files) {
    const key = `${prefix}${f.rel}`;
    s.addKey(key, f.format !== undefined && looksLikeImage(key));
  }
  return s.result();
}

/** The survey of a bucket prefix, and the ETags of what is there. */
export async function surveyBucket(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  classes: Record<string, number>,
): Promise<{ survey: LayoutSurvey; etags: Map<string, string> }> {
  const s = new FolderSurvey(new FolderClasses(classes));
  const etags = new Map<string, string>();
  let next: string | undefined;
  do {
    const page = await store.list(bucket, prefix, next);
    for (const o of page.objects) {
      s.addKey(o.key);
      if (o.etag) etags.set(o.key, o.etag.replaceAll('"', ''));
    }
    next = page.next;
  } while (next);
  return { survey: s.result(), etags };
}

/** One run of a folder-labelled source: a split folder (or the whole prefix without splits). */
export interface SplitRun {
  split: string | null;
  /** The run's source prefix. */
  prefix: string;
  images: number;
}

/**
 * One run per split folder holding images, so each split gets its own audit (the audit of a run
 * covers all its images). One run over the whole source (its status still counts per split) when
 * class folders are at its top, or when one split folder lies inside another (their runs would
 * share images).
 */
export function splitRuns(survey: LayoutSurvey, prefix: string): SplitRun[] {
  const splits = survey.splits.filter((s) => s.images > 0);
  const nested = splits.some((a) => splits.some((b) => a !== b && b.path.startsWith(`${a.path}/`)));
  if (nested || splits.some((s) => s.path === '' || !`${s.path}/`.startsWith(prefix)))
    return [{ split: null, prefix, images: survey.images }];
  return splits.map((s) => ({ split: s.split, prefix: `${s.path}/`, images: s.images }));
}

/** Names a split run for people: its folder name, with its path when two splits share a name. */
export function splitLabel(run: SplitRun, all: SplitRun[]): string {
  const name = run.split ?? '(all)';
  return all.filter((r) => r.split === run.split).length > 1 ? `${name} (${run.prefix})` : name;
}
