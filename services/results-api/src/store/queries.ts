import {
  type CompletedEvent,
  type CompletionEvent,
  canUseBucket,
  isSafeId,
  type Principal,
  type RunRecord,
  redisKeys,
  runRecordSchema,
} from '@camflow/contracts';
import type { Redis } from 'ioredis';
import { type LabelFigures, labelFigures } from './label-figures.js';
import { runLabels } from './run-labels.js';
import { parseLayout, splitFigures } from './run-layout.js';
import { runSplits, splitViews } from './run-splits.js';
import { type RunCounts, runView } from './run-status.js';
import type { StoredRun } from './stored-run.js';
import { scanZset, type ZPosition } from './zset-scan.js';

export type { StoredRun } from './stored-run.js';

/**
 * Reads a run's hash. The record is the JSON `record` field (redis-keys.ts); a hash whose fields
 * are the record's own (JSON-encoded where not strings) is read too. Invalid = absent.
 */
export async function loadRun(redis: Redis, runId: string): Promise<StoredRun | undefined> {
  if (!isSafeId(runId)) return undefined;
  const h = await redis.hgetall(redisKeys.run(runId));
  if (Object.keys(h).length === 0) return undefined;
  let raw: unknown;
  try {
    raw =
      h.record !== undefined
        ? JSON.parse(h.record)
        : Object.fromEntries(Object.entries(h).map(([k, v]) => [k, jsonOrString(v)]));
  } catch {
    return undefined;
  }
  const parsed = runRecordSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const listed = h.listed === undefined ? undefined : Number(h.listed);
  const skipped = Number(h.invalid ?? 0);
  return {
    record: parsed.data,
    listed: Number.isFinite(listed) ? listed : undefined,
    skipped: Number.isFinite(skipped) ? skipped : 0,
    ...(h.layout !== undefined && { layout: parseLayout(h.layout) }),
  };
}

function jsonOrString(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Whether a token may see a run: admin, the run's owner, or bucket events it may read. */
export function canSeeRun(p: Principal, r: RunRecord): boolean {
  if (p.runs) return p.runs.includes(r.runId);
  return (
    p.scopes.includes('admin') ||
    r.owner === p.id ||
    (r.kind === 'events' && canUseBucket(p, r.source.bucket))
  );
}

/** The run if it exists and `p` may see it (callers answer 404 otherwise, either way). */
export async function visibleRun(
  redis: Redis,
  p: Principal,
  runId: string,
): Promise<StoredRun | undefined> {
  const run = await loadRun(redis, runId);
  return run && canSeeRun(p, run.record) ? run : undefined;
}

/** Counts and timing of a run, read in one round trip. */
export async function runCounts(redis: Redis, run: StoredRun): Promise<RunCounts> {
  const id = run.record.runId;
  const order = redisKeys.runOrder(id);
  const since = run.record.createdAt;
  const res = await redis
    .multi()
    .scard(redisKeys.runJobs(id))
    .scard(redisKeys.runDone(id))
    .scard(redisKeys.runFailed(id))
    .zcount(order, since, '+inf')
    .zrangebyscore(order, since, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    .zrange(order, -1, -1, 'WITHSCORES')
    .exec();
  const v = (res ?? []).map(([err, val]) => {
    if (err) throw err;
    return val;
  });
  const first = v[4] as string[];
  const last = v[5] as string[];
  return {
    total: v[0] as number,
    completed: v[1] as number,
    failed: v[2] as number,
    fresh: v[3] as number,
    firstFreshAt: first.length ? Number(first[1]) : undefined,
    lastFinishedAt: last.length ? Number(last[1]) : undefined,
  };
}

/**
 * The run status document of `GET /v1/runs/:runId`. `labelFigures: false` leaves out the
 * per-label figures, which read the run's results (a list of many runs should not).
 */
export async function runStatus(
  redis: Redis,
  run: StoredRun,
  now = Date.now(),
  opts: { labelFigures?: boolean } = {},
) {
  const [counts, splits] = await Promise.all([runCounts(redis, run), splitViews(redis, run)]);
  const [failures, figures] = await Promise.all([
    counts.failed > 0 ? failureReasons(redis, run.record.runId) : null,
    opts.labelFigures === false ? undefined : manifestFigures(redis, run, counts),
  ]);
  return {
    ...runView(run, counts, now),
    failures,
    ...splitFigures(run, splits),
    ...(figures && { labelFigures: figures }),
  };
}

/** Labelled results a status reads for its per-label figures (beyond: `sampled`). */
const FIGURES_SCAN = 5000;
/** Figures by run, kept while the run's counts do not move (polled statuses rescan nothing). */
const figuresMemo = new Map<string, { stamp: string; value: ManifestFigures | undefined }>();
type ManifestFigures = LabelFigures & { sampled?: { scanned: number } };

/**
 * Per-label (multi-label) or per-class figures of a manifest run's labelled results (the
 * manifest's `label` or `labels`): prevalence, sensitivity, specificity and AUC per label.
 * AUC needs every score, so the results are read (at most FIGURES_SCAN of them, in run order).
 */
async function manifestFigures(
  redis: Redis,
  run: StoredRun,
  counts: RunCounts,
): Promise<ManifestFigures | undefined> {
  const id = run.record.runId;
  if (run.record.source.manifest === undefined || counts.completed === 0) return undefined;
  const stamp = [counts.total, counts.completed, counts.failed, counts.lastFinishedAt].join(':');
  const memo = figuresMemo.get(id);
  if (memo?.stamp === stamp) return memo.value;
  const { rows, next, scanned } = await scanResults(redis, id, {
    limit: FIGURES_SCAN,
    maxScan: FIGURES_SCAN,
    keep: (e) => e.type === 'job.completed' && (e.label !== undefined || e.labels !== undefined),
  });
  const figures = labelFigures(rows.map((r) => r.event as CompletedEvent));
  const value = figures && { ...figures, ...(next && { sampled: { scanned } }) };
  figuresMemo.delete(id);
  figuresMemo.set(id, { stamp, value });
  // The oldest entry goes first (a Map iterates in insertion order).
  if (figuresMemo.size > 500) figuresMemo.delete(figuresMemo.keys().next().value as string);
  return value;
}

/** Failed results by reason, from a sample of at most 200 of them (a status stays cheap). */
async function failureReasons(redis: Redis, runId: string) {
  const ids = await redis.srandmember(redisKeys.runFailed(runId), 200);
  const raw = ids.length ? await redis.mget(ids.map((id) => redisKeys.result(id))) : [];
  const reasons: Record<string, number> = {};
  let example: string | undefined;
  for (const r of raw) {
    if (!r) continue;
    const e = JSON.parse(r) as CompletionEvent;
    if (e.type !== 'job.failed') continue;
    reasons[e.error.reason] = (reasons[e.error.reason] ?? 0) + 1;
    example ??= `${e.error.reason}: ${e.error.message}`;
  }
  return { sampled: ids.length, reasons, example: example ?? null };
}

/** A job's stored final event, if it has one. */
export async function loadResult(
  redis: Redis,
  jobId: string,
): Promise<CompletionEvent | undefined> {
  const raw = await redis.get(redisKeys.result(jobId));
  return raw ? (JSON.parse(raw) as CompletionEvent) : undefined;
}

/** Runs a job belongs to (memberships plus the run its stored event names). */
export async function jobRunIds(redis: Redis, jobId: string, event?: CompletionEvent) {
  const ids = await redis.smembers(redisKeys.jobRuns(jobId));
  return [...new Set(event ? [...ids, event.runId] : ids)];
}

/** One listed result with its position in the run's order. */
export interface ResultRow {
  event: CompletionEvent;
  position: ZPosition;
}

/**
 * Walks a run's results in runOrder order after `after`, keeping those `keep` accepts, until
 * `limit` are found or `maxScan` were looked at. `next` is where to continue (absent at the end).
 */
export async function scanResults(
  redis: Redis,
  runId: string,
  opts: {
    after?: ZPosition;
    limit: number;
    maxScan: number;
    keep?: (e: CompletionEvent) => boolean;
  },
): Promise<{ rows: ResultRow[]; next?: ZPosition; scanned: number }> {
  const rows: ResultRow[] = [];
  let scanned = 0;
  let pending: ZPosition[] = [];
  const batch = Math.min(200, Math.max(opts.limit, 20));
  const flush = async (): Promise<ZPosition | undefined> => {
    const ids = pending.map((p) => p.member);
    const [raws, labels, splits] = await Promise.all([
      redis.mget(ids.map((id) => redisKeys.result(id))),
      runLabels(redis, runId, ids),
      runSplits(redis, runId, ids),
    ]);
    for (let i = 0; i < pending.length; i++) {
      scanned++;
      const raw = raws[i];
      const event = raw ? (JSON.parse(raw) as CompletionEvent) : undefined;
      // This run's own label wins over the one the stored (possibly shared) result carries.
      if (event && labels[i] !== undefined) event.label = labels[i];
      if (event && splits[i] !== undefined) event.split = splits[i];
      if (event && (!opts.keep || opts.keep(event))) rows.push({ event, position: pending[i] });
      if (rows.length >= opts.limit || scanned >= opts.maxScan) return pending[i];
    }
    pending = [];
    return undefined;
  };
  for await (const pos of scanZset(redis, redisKeys.runOrder(runId), {
    after: opts.after,
    batch,
  })) {
    pending.push(pos);
    if (pending.length >= batch) {
      const stop = await flush();
      if (stop) return { rows, next: stop, scanned };
    }
  }
  if (pending.length > 0) {
    const stop = await flush();
    // Stopping on the very last member still hands out a cursor; the next page is just empty.
    if (stop) return { rows, next: stop, scanned };
  }
  return { rows, scanned };
}
