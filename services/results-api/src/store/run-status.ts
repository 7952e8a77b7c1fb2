import type { RunStatus } from '@camflow/contracts';
import type { StoredRun } from './stored-run.js';

/** What Redis says about a run's progress. */
export interface RunCounts {
  /** SCARD runJobs: a lower bound until the listing is done. */
  total: number;
  completed: number;
  failed: number;
  /** Results that finished after the run was created (work done for it, not reused). */
  fresh: number;
  /** finishedAt of the first such result. */
  firstFreshAt?: number;
  /** The latest finishedAt of any result in the run. */
  lastFinishedAt?: number;
}

/**
 * A run's status: failed when the run itself failed or every one of its jobs failed (`failures`
 * in the status says why), completed when every listed key has an outcome and some were
 * explained, running once anything has one, queued before.
 */
export function runState(run: StoredRun, c: RunCounts): RunStatus {
  if (run.record.error) return 'failed';
  const finished = c.completed + c.failed;
  if (run.record.listingDone && finished >= c.total) {
    return c.completed === 0 && c.failed > 0 ? 'failed' : 'completed';
  }
  return finished > 0 ? 'running' : 'queued';
}

/**
 * Images per second over the work done for this run: from its first fresh result to its last
 * (or to now while it is still going, so a stall shows as a falling rate). Results reused from
 * earlier runs finished before the run existed and are left out: they would fake a huge rate.
 */
export function throughput(c: RunCounts, state: RunStatus, now: number): number | null {
  if (c.fresh < 2 || c.firstFreshAt === undefined || c.lastFinishedAt === undefined) return null;
  const end =
    state === 'completed' || state === 'failed'
      ? c.lastFinishedAt
      : Math.max(now, c.lastFinishedAt);
  const seconds = (end - c.firstFreshAt) / 1000;
  return seconds > 0 ? (c.fresh - 1) / seconds : null;
}

/** The `GET /v1/runs/:runId` document. */
export function runView(run: StoredRun, c: RunCounts, now: number) {
  const r = run.record;
  const status = runState(run, c);
  const rate = throughput(c, status, now);
  const remaining = Math.max(0, c.total - c.completed - c.failed);
  const etaSeconds =
    status === 'completed'
      ? 0
      : rate && (status === 'running' || status === 'queued')
        ? remaining / rate
        : null;
  return {
    runId: r.runId,
    kind: r.kind,
    status,
    total: c.total,
    completed: c.completed,
    failed: c.failed,
    pending: remaining,
    listed: run.listed ?? null,
    /** Keys and manifest lines skipped while listing: unreadable, or unsafe keys. */
    skipped: run.skipped,
    listingDone: r.listingDone,
    createdAt: r.createdAt,
    model: r.model,
    layer: r.layer ?? null,
    align: r.align ?? null,
    method: r.method,
    target: r.target,
    priority: r.priority,
    source: {
      bucket: r.source.bucket,
      prefix: r.source.prefix,
      manifest: r.source.manifest,
      // Explicit key lists can be 10k long: the count is what a status needs.
      keyCount: r.source.keys?.length,
    },
    error: r.error ?? null,
    throughput: rate === null ? null : round(rate, 3),
    etaSeconds: etaSeconds === null ? null : Math.ceil(etaSeconds),
    firstFinishedAt: c.firstFreshAt ?? null,
    lastFinishedAt: c.lastFinishedAt ?? null,
  };
}

export type RunView = ReturnType<typeof runView>;

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
