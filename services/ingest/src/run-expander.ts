import {
  classifyError,
  type ExplainSettings,
  PermanentError,
  type RunRecord,
} from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import type { Redis } from 'ioredis';
import { waitForRoom } from './backpressure.js';
import { type ExplainQueueHandle, enqueueExplainJobs } from './enqueue.js';
import type { IngestMetrics } from './metrics.js';
import { claimExpansion, finishListing, getRun, saveProgress } from './run-store.js';
import { surveyFolderRun } from './sources/folder-expansion.js';
import { LISTING_END, sourcePages } from './sources/pages.js';

/** Tuning of run expansion (page size, watermarks, HEAD concurrency). */
export interface ExpansionOptions {
  /** Keys per listing page / manifest lines per page (and per saved cursor). Default 1000. */
  pageSize?: number;
  /** Pause listing above this many waiting jobs. Default 50,000. */
  highWater?: number;
  /** Resume listing below this many waiting jobs. Default half the high-water mark. */
  lowWater?: number;
  /** Poll interval while paused, ms. Default 500. */
  pollMs?: number;
  /** Concurrent HEADs pinning the ETags of keys and manifest entries. Default 64. */
  headConcurrency?: number;
}

/** What an expander reads and writes. */
export interface ExpanderDeps {
  redis: Redis;
  store: ObjectStore;
  queues: { bulk: ExplainQueueHandle; realtime: ExplainQueueHandle };
  metrics?: IngestMetrics;
  logger?: Logger;
}

/** How an expansion ended: all listed, or stopped early (resume from the saved cursor). */
export type ExpandOutcome = 'done' | 'aborted';

/**
 * Expands runs into explain jobs, one page at a time: wait for room in the queue, read the
 * next page (overlapped with enqueueing the previous one), enqueue it, save the cursor. A crash or stop between pages loses nothing, and
 * redoing a page after a crash inside it is harmless (job ids and index sets are idempotent).
 */
export class RunExpander {
  private readonly opts: Required<ExpansionOptions>;
  /** Smoothed jobs/s over recent pages (for the gauge). */
  private rate = 0;

  constructor(
    private readonly deps: ExpanderDeps,
    opts: ExpansionOptions = {},
  ) {
    const highWater = opts.highWater ?? 50_000;
    this.opts = {
      pageSize: opts.pageSize ?? 1000,
      highWater,
      lowWater: opts.lowWater ?? Math.floor(highWater / 2),
      pollMs: opts.pollMs ?? 500,
      headConcurrency: opts.headConcurrency ?? 64,
    };
  }

  /**
   * Lists the run's source into its queue from the saved cursor. Permanent source errors (the
   * manifest or bucket does not exist, access denied) end the run with `error` set; transient
   * ones are thrown for the caller to retry.
   */
  async expand(runId: string, signal?: AbortSignal): Promise<ExpandOutcome> {
    const { redis, store, logger } = this.deps;
    const run = await getRun(redis, runId);
    if (!run) {
      logger?.warn({ runId }, 'expansion of a run that does not exist; skipped');
      return 'done';
    }
    if (run.record.listingDone) return 'done';
    const { record } = run;
    const epoch = await claimExpansion(redis, runId);
    const queue =
      record.priority === 'realtime' ? this.deps.queues.realtime : this.deps.queues.bulk;
    const settings = settingsOf(record);
    // Folder labels: the whole source is surveyed first, so a folder naming no class fails the run
    // before anything is queued (a restart before the first page surveys again).
    if (record.labels && run.cursor === '') {
      const failed = await this.survey(record, epoch);
      if (failed) return 'done';
    }
    const pages = sourcePages(store, record, run.cursor, this.opts);
    const marks = { high: this.opts.highWater, low: this.opts.lowWater, pollMs: this.opts.pollMs };
    const onPause = (paused: boolean) => {
      this.deps.metrics?.expansionsPaused.inc(paused ? 1 : -1);
      logger?.info({ runId, paused }, paused ? 'queue full: listing paused' : 'listing resumed');
    };
    let listed = run.listed;
    // Room first, then the next page: a paused expansion holds no listing in memory. The
    // check runs while the connection is idle (between pages), so it answers at once.
    if (!(await waitForRoom(queue, marks, signal, onPause))) return 'aborted';
    let pending = pages.next();
    pending.catch(() => {}); // surfaces when awaited
    try {
      for (;;) {
        const next = await pending;
        if (next.done) break;
        const page = next.value;
        const last = page.cursor === LISTING_END;
        if (!last) {
          if (!(await waitForRoom(queue, marks, signal, onPause))) return 'aborted';
          // Overlap: list (or HEAD) the following page while this one is enqueued. It is only
          // used after this page's cursor is saved, so a stop in between loses nothing.
          pending = pages.next();
          pending.catch(() => {});
        }
        const started = performance.now();
        await enqueueExplainJobs(redis, queue, runId, settings, page.items, this.deps.metrics);
        await saveProgress(redis, runId, epoch, {
          cursor: page.cursor,
          count: page.items.length,
          invalid: page.invalid,
        });
        listed += page.items.length;
        this.recordRate(page.items.length, performance.now() - started);
        if (page.invalid > 0) {
          logger?.warn({ runId, invalid: page.invalid }, 'manifest lines skipped');
        }
        if (last) break;
        if (signal?.aborted) return 'aborted';
      }
    } catch (err) {
      const e = classifyError(err);
      if (!(e instanceof PermanentError)) throw err;
      const what = describeSource(record);
      logger?.warn({ runId, reason: e.reason }, `run failed: ${what}: ${e.message}`);
      await finishListing(redis, runId, { error: `${what}: ${e.reason}: ${e.message}`, epoch });
      return 'done';
    } finally {
      await pending.catch(() => {});
      await pages.return(undefined);
    }
    await finishListing(redis, runId, { epoch });
    logger?.info({ runId, listed }, 'run listed');
    return 'done';
  }

  /** Surveys a folder-labelled run; true when it failed the run (its error says why). */
  private async survey(record: RunRecord, epoch: number): Promise<boolean> {
    const { redis, store, logger } = this.deps;
    const runId = record.runId;
    let error: string | undefined;
    try {
      const layout = await surveyFolderRun(redis, store, record, this.opts.pageSize);
      if (layout.error) error = `${describeSource(record)}: ${layout.error}`;
      for (const w of layout.warnings) logger?.warn({ runId }, w);
    } catch (err) {
      const e = classifyError(err);
      if (!(e instanceof PermanentError)) throw err;
      error = `${describeSource(record)}: ${e.reason}: ${e.message}`;
    }
    if (!error) return false;
    logger?.warn({ runId }, `run failed: ${error}`);
    await finishListing(redis, runId, { error, epoch });
    return true;
  }

  private recordRate(jobs: number, ms: number): void {
    const m = this.deps.metrics;
    if (!m || jobs === 0 || ms <= 0) return;
    const rate = (jobs * 1000) / ms;
    this.rate = this.rate === 0 ? rate : this.rate * 0.7 + rate * 0.3;
    m.enqueueRate.set(this.rate);
  }
}

/** The settings every job of a run shares. */
export function settingsOf(record: RunRecord): ExplainSettings {
  const s: ExplainSettings = { model: record.model, method: record.method, target: record.target };
  if (record.layer) s.layer = record.layer;
  if (record.align) s.align = record.align;
  if (record.targets !== undefined) s.targets = record.targets;
  return s;
}

function describeSource(r: RunRecord): string {
  if (r.source.manifest) return `manifest s3://${r.source.bucket}/${r.source.manifest}`;
  return `s3://${r.source.bucket}/${r.source.prefix ?? ''}`;
}
