/**
 * `camflow runs create <dir | s3://bucket/prefix> --labels folder`: a data set laid out as
 * `<split>/<CLASS>/<image>` (or a local folder without labels) as runs. A local folder is first
 * uploaded (what is missing, by content hash); the source is surveyed as ingest will survey it,
 * so folders naming no class stop it before anything is uploaded or queued; then one run per
 * split, each with an Idempotency-Key over the request and the images' content hashes, so the
 * same command again uploads nothing and finds its runs instead of queueing new work.
 */
import { basename, resolve } from 'node:path';
import type { Config } from '@camflow/config';
import { type LayoutSurvey, surveyError, surveyWarnings } from '@camflow/ingest';
import { S3Store } from '@camflow/storage';
import type { ApiClient } from '../api-client.js';
import {
  folderClasses,
  parseClasses,
  type SplitRun,
  splitRuns,
  surveyBucket,
  surveyLocal,
} from '../dataset/folder-source.js';
import { walkFolder } from '../dataset/local-tree.js';
import {
  type CreatedRun,
  createSplitRuns,
  formatOutcomes,
  type RunBase,
  splitLinks,
  splitOutcomes,
  watchRuns,
} from '../dataset/split-runs.js';
import {
  formatUpload,
  keyPrefix,
  type UploadSummary,
  uploadFolder,
  uploadJson,
} from '../dataset/upload.js';
import { UsageError } from '../usage.js';
import { parseS3Url } from './runs.js';
import { localFolder } from './upload.js';

/** Where a local folder goes when `--to` is not given. */
export const DEFAULT_UPLOAD_BUCKET = 'camflow-uploads';

export interface FolderRunOptions {
  /** A local folder or `s3://bucket/prefix`. */
  source: string;
  /** Upload destination for a local folder (`s3://bucket/prefix`). */
  to?: string;
  labels: boolean;
  classes?: string;
  base: RunBase;
  watch: boolean;
  json: boolean;
}

function warn(survey: LayoutSurvey): void {
  for (const w of surveyWarnings(survey)) process.stderr.write(`camflow: warning: ${w}\n`);
}

/** One run over the whole source (no folder labels), or the per-split runs (folder labels). */
export async function createFolderRuns(
  api: ApiClient,
  config: Config,
  o: FolderRunOptions,
): Promise<number> {
  const local = !o.source.startsWith('s3://');
  if (!o.labels && o.classes) throw new UsageError('--classes needs --labels folder');
  if (!local && o.to) throw new UsageError('--to is for a local folder');
  const store = S3Store.fromConfig(config);
  try {
    const resolved = o.labels
      ? await folderClasses(
          store,
          config.CAMFLOW_MODEL_BUCKET,
          o.base.model,
          parseClasses(o.classes),
        )
      : undefined;
    const base: RunBase = resolved
      ? { ...o.base, labels: { from: 'folder', classes: resolved.classes } }
      : o.base;
    let upload: UploadSummary | undefined;
    let dest: { bucket: string; prefix: string };
    let etags: Map<string, string>;
    let survey: LayoutSurvey | undefined;
    if (local) {
      const dir = await localFolder(o.source);
      const to = o.to
        ? parseS3Url(o.to)
        : { bucket: DEFAULT_UPLOAD_BUCKET, prefix: basename(resolve(dir)) };
      dest = { bucket: to.bucket, prefix: keyPrefix(to.prefix) };
      const tree = await walkFolder(dir);
      if (resolved) {
        // Before uploading: a folder that names no class would fail every run anyway.
        survey = surveyLocal(tree, dest.prefix, resolved.classes);
        const error = surveyError(survey, resolved.hint);
        if (error) throw new UsageError(`${o.source}: ${error}`);
      }
      upload = await uploadFolder(store, tree, dest, { progress: true });
      if (!o.json) process.stderr.write(formatUpload(upload));
      etags = upload.md5;
    } else {
      const s = parseS3Url(o.source);
      // A folder: `data/set` must not take in `data/set2/`.
      dest = { bucket: s.bucket, prefix: keyPrefix(s.prefix) };
      if (resolved) {
        const b = await surveyBucket(store, dest.bucket, dest.prefix, resolved.classes);
        survey = b.survey;
        etags = b.etags;
        const error = surveyError(survey, resolved.hint);
        if (error) throw new UsageError(`${o.source}: ${error}`);
      } else etags = new Map();
    }
    if (survey && !o.json) warn(survey);
    const runs: SplitRun[] = survey
      ? splitRuns(survey, dest.prefix)
      : [{ split: null, prefix: dest.prefix, images: upload?.images ?? 0 }];
    const created = await createSplitRuns(api, dest.bucket, runs, base, etags);
    const existing = created.filter((r) => r.existing).length;
    const summary = {
      ...(upload && { upload: uploadJson(upload) }),
      source: `s3://${dest.bucket}/${dest.prefix}`,
      ...(survey && { layout: survey }),
      runs: created.map((r) => ({
        split: r.split,
        prefix: r.prefix,
        images: r.images,
        runId: r.runId,
        existing: r.existing,
      })),
      newRuns: created.length - existing,
      existingRuns: existing,
    };
    if (!o.json) process.stderr.write(runsLine(created, existing));
    if (!o.watch) {
      process.stdout.write(
        o.json
          ? `${JSON.stringify(summary)}\n`
          : created.map((r) => `${r.runId}  ${r.label}  ${r.images} images\n`).join(''),
      );
      return 0;
    }
    const finals = await watchRuns(api, created);
    const outcomes = await splitOutcomes(api, created, finals);
    const { compare } = await splitLinks(api, outcomes);
    if (o.json) {
      const splits = outcomes.map((x, i) => ({ ...x, figures: finals[i].splits ?? [] }));
      process.stdout.write(`${JSON.stringify({ ...summary, splits, compare })}\n`);
    } else process.stdout.write(formatOutcomes(outcomes, compare));
    return finals.some((f) => f.status === 'failed') ? 1 : 0;
  } finally {
    store.close();
  }
}

function runsLine(created: CreatedRun[], existing: number): string {
  const what = created.length === 1 ? 'run' : `runs (one per split)`;
  const again =
    existing === 0
      ? ''
      : existing === created.length
        ? ': all already made by the same command over the same files, nothing new queued'
        : `: ${existing} already made by the same command over the same files`;
  return `${created.length} ${what}${again}\n`;
}
