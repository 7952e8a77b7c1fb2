import { type ExpandRunJob, expandRunJobSchema, QUEUES } from '@camflow/contracts';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ExpanderDeps, type ExpansionOptions, RunExpander } from './run-expander.js';
import { finishListing, SupersededError } from './run-store.js';

/** Expansion settings plus the BullMQ worker's. */
export interface ExpansionWorkerOptions extends ExpansionOptions {
  /** Runs expanded at once by this process. Default 2. */
  concurrency?: number;
  /** BullMQ lock duration, ms (a crashed expander's run is picked up after it). Default 30 s. */
  lockDuration?: number;
  /** How often BullMQ looks for stalled (crashed) expansions, ms. Default 30 s. */
  stalledInterval?: number;
}

/** A running expansion worker. */
export interface ExpansionWorker {
  worker: Worker<ExpandRunJob, void, 'expand-run'>;
  /** Stops at the next page boundary (the run goes back to wait, cursor saved); idempotent. */
  close(): Promise<void>;
}

/**
 * The BullMQ worker on QUEUES.runs that expands runs into explain jobs. A stop hands the
 * running expansions back to the queue (not as failures), so another ingest resumes them from
 * their cursors; transient errors are retried by BullMQ with backoff, from the same cursor.
 */
export function startExpansionWorker(
  deps: ExpanderDeps & { connection: Redis },
  opts: ExpansionWorkerOptions = {},
): ExpansionWorker {
  const expander = new RunExpander(deps, opts);
  const stop = new AbortController();

  const processor = async (job: Job<ExpandRunJob, void, 'expand-run'>, token?: string) => {
    const parsed = expandRunJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`bad expand-run payload: ${parsed.error.message}`);
    const { runId } = parsed.data;
    try {
      const outcome = await expander.expand(runId, stop.signal);
      if (outcome === 'aborted') {
        await job.moveToWait(token);
        throw new WaitingError();
      }
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      if (err instanceof SupersededError) {
        // Another ingest took the run over (this one lost its lock): nothing left to do here.
        deps.logger?.warn({ runId }, err.message);
        throw new UnrecoverableError(err.message);
      }
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger?.warn(
        { runId, attempt: job.attemptsMade + 1, err: (err as Error).message },
        last ? 'run expansion failed for good' : 'run expansion failed; retrying from its cursor',
      );
      if (last) {
        await finishListing(deps.redis, runId, {
          error: `listing failed: ${(err as Error).message}`,
        });
      }
      throw err;
    }
  };

  const worker = new Worker<ExpandRunJob, void, 'expand-run'>(QUEUES.runs, processor, {
    connection: deps.connection,
    concurrency: opts.concurrency ?? 2,
    lockDuration: opts.lockDuration ?? 30_000,
    stalledInterval: opts.stalledInterval ?? 30_000,
    // An expansion killed mid-run stalls; it resumes from its cursor, so let it stall often.
    maxStalledCount: 10,
  });
  worker.on('error', (err) => deps.logger?.error({ err: err.message }, 'expansion worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    close: () => {
      closing ??= (async () => {
        stop.abort();
        await worker.close();
      })();
      return closing;
    },
  };
}
