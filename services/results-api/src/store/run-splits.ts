/**
 * Figures per split (and accuracy) of labelled runs, kept as results are indexed so that a run's
 * status reads them in one round trip however large it is.
 *
 * Per run, `runSplits` holds each labelled (or split) job's contribution: the split, the label
 * and the counter fields it added (`<split>\n<figure>`); `runSplitCounts` holds the counters.
 * Re-indexing a job first takes its old contribution back, so duplicates and out-of-order
 * redeliveries change nothing, and a job whose stored result changes (a retry that succeeded)
 * moves between counters. A job shared by runs is counted in each with that run's split and label.
 */
import { type CompletionEvent, redisKeys } from '@camflow/contracts';
import type { Redis } from 'ioredis';
import { classNames, labelIndex, predictedIndex } from './labels.js';
import type { SplitView } from './run-layout.js';
import type { StoredRun } from './stored-run.js';

// Defined with the layout it is shown beside; the report's split section imports it from here.
export type { SplitView } from './run-layout.js';

// KEYS: runSplits, runSplitCounts; ARGV: jobId, finishedAt, contribution JSON, class names JSON.
const APPLY = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local old = cjson.decode(cur)
  if tonumber(old.f) > tonumber(ARGV[2]) then return 0 end
  for _, c in ipairs(old.c) do redis.call('HINCRBY', KEYS[2], c, -1) end
end
local new = cjson.decode(ARGV[3])
for _, c in ipairs(new.c) do redis.call('HINCRBY', KEYS[2], c, 1) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('HSETNX', KEYS[2], 'classes', ARGV[4]) end
return 1`;

interface Contribution {
  /** finishedAt of the result counted. */
  f: number;
  /** Split ('' = none). */
  s: string;
  /** The run's label for the job. */
  l?: number | string;
  /** Counter fields added. */
  c: string[];
}

/** The counter fields a result adds to its split. */
function fields(e: CompletionEvent, split: string, label: number | string | undefined): string[] {
  const f = (name: string) => `${split}\n${name}`;
  if (e.type === 'job.failed') return [f('failed')];
  const out = [f('completed')];
  if (label === undefined) return out;
  const truth = labelIndex(label, classNames(e.prediction));
  if (truth === undefined) return out;
  const pred = predictedIndex(e.prediction);
  out.push(f('labelled'), f(`cm\n${truth}\n${pred}`));
  if (pred === truth) out.push(f('correct'));
  return out;
}

async function apply(
  redis: Redis,
  runId: string,
  stored: CompletionEvent,
  split: string,
  label: number | string | undefined,
): Promise<void> {
  const c: Contribution = {
    f: stored.finishedAt,
    s: split,
    ...(label !== undefined && { l: label }),
    c: fields(stored, split, label),
  };
  const names =
    stored.type === 'job.completed' ? JSON.stringify(classNames(stored.prediction)) : '';
  await redis.eval(
    APPLY,
    2,
    redisKeys.runSplits(runId),
    redisKeys.runSplitCounts(runId),
    stored.jobId,
    stored.finishedAt,
    JSON.stringify(c),
    names,
  );
}

/**
 * Counts an indexed event: in its own run when it carries a split or a label, and again in every
 * other run that counts this job (with that run's split and label), from the stored result.
 */
export async function indexSplits(
  redis: Redis,
  event: CompletionEvent,
  stored: CompletionEvent,
  runIds: string[],
): Promise<void> {
  if (event.split !== undefined || event.label !== undefined)
    await apply(redis, event.runId, stored, event.split ?? '', event.label);
  for (const runId of runIds) {
    if (runId === event.runId) continue;
    const raw = await redis.hget(redisKeys.runSplits(runId), event.jobId);
    if (!raw) continue;
    const c = JSON.parse(raw) as Contribution;
    await apply(redis, runId, stored, c.s, c.l);
  }
}

/** The run's splits from its counters (and its layout survey's image counts), by name. */
export async function splitViews(redis: Redis, run: StoredRun): Promise<SplitView[] | undefined> {
  const h = await redis.hgetall(redisKeys.runSplitCounts(run.record.runId));
  const survey = new Map<string, number>();
  for (const s of run.layout?.splits ?? [])
    survey.set(s.split ?? '', (survey.get(s.split ?? '') ?? 0) + s.images);
  if (Object.keys(h).length === 0 && survey.size === 0) return undefined;
  const classes = classNamesOf(run, h.classes);
  const byName = new Map<string, Record<string, number>>();
  for (const name of survey.keys()) byName.set(name, {});
  for (const [field, value] of Object.entries(h)) {
    const nl = field.indexOf('\n');
    if (nl < 0) continue;
    const split = field.slice(0, nl);
    const figures = byName.get(split) ?? {};
    byName.set(split, figures);
    figures[field.slice(nl + 1)] = Number(value);
  }
  return [...byName]
    .sort(([a], [b]) => splitOrder(a) - splitOrder(b) || a.localeCompare(b))
    .map(([split, f]) => {
      const labelled = f.labelled ?? 0;
      const correct = f.correct ?? 0;
      return {
        split: split === '' ? null : split,
        images: survey.get(split) ?? null,
        completed: f.completed ?? 0,
        failed: f.failed ?? 0,
        labelled,
        correct,
        accuracy: labelled > 0 ? correct / labelled : null,
        confusion: classes && labelled > 0 ? confusion(f, classes.length) : null,
        classes,
      };
    });
}

/** The model's class names, each named by the run's folder for it where it has one (NORMAL). */
function classNamesOf(run: StoredRun, stored: string | undefined): string[] | null {
  if (!stored) return null;
  const names = JSON.parse(stored) as string[];
  const folders = Object.entries(run.record.labels?.classes ?? {});
  return names.map((n, i) => folders.find(([, k]) => k === i)?.[0] ?? n);
}

function confusion(f: Record<string, number>, n: number): number[][] {
  return Array.from({ length: n }, (_, t) =>
    Array.from({ length: n }, (_, p) => f[`cm\n${t}\n${p}`] ?? 0),
  );
}

/** train, val, test first (the usual order), then the rest by name. */
function splitOrder(name: string): number {
  const i = ['train', 'training', 'val', 'valid', 'validation', 'dev', 'test', 'testing'].indexOf(
    name.toLowerCase(),
  );
  return i < 0 ? 99 : i;
}

/** The per-run split of some jobs (undefined where the run's own events brought none). */
export async function runSplits(
  redis: Redis,
  runId: string,
  jobIds: string[],
): Promise<(string | undefined)[]> {
  if (jobIds.length === 0) return [];
  const raw = await redis.hmget(redisKeys.runSplits(runId), ...jobIds);
  return raw.map((v) => (v === null ? undefined : (JSON.parse(v) as Contribution).s || undefined));
}
