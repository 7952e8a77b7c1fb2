import {
  type CompletionEvent,
  completionEventSchema,
  EVENT_FIELD,
  EVENTS_STREAM,
  EVENTS_STREAM_MAXLEN,
  type ExplainJob,
  type ExplainSettings,
  explainJobId,
  RETRY,
  redisKeys,
  type SourceObject,
} from '@camflow/contracts';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IngestMetrics } from './metrics.js';

/** A queue of explain jobs (realtime or bulk). */
export type ExplainQueueHandle = Queue<ExplainJob, unknown, 'explain'>;

/** One object to explain, with its ground-truth label when a manifest gives one. */
export interface ExplainItem {
  source: SourceObject;
  label?: number | string;
  /** A ground-truth label set (multi-label manifests). */
  labels?: (number | string)[];
  /** The data-set split (folder labels). */
  split?: string;
}

/** Options of every explain job (ARCHITECTURE brief: retries, retention). */
export const EXPLAIN_JOB_OPTS = {
  ...RETRY.explain,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
};

/** What one enqueued chunk did. */
export interface EnqueueResult {
  /** Job ids, one per distinct item, in input order. */
  jobIds: string[];
  /** Handed to the queue (a no-op for an id already queued, active or recently finished). */
  queued: number;
  /** Answered from an existing result, re-published for this run. */
  reused: number;
}

/**
 * Puts a chunk of explain jobs of one run on `queue`, doing the shared index steps first (one
 * pipelined round trip): SADD runJobs(run) and jobRuns(job), then reuse an existing result by
 * re-publishing its event for this run instead of queueing the job. SADD before the result
 * lookup closes the race with the results API, which writes the result before reading jobRuns.
 */
export async function enqueueExplainJobs(
  redis: Redis,
  queue: ExplainQueueHandle,
  runId: string,
  settings: ExplainSettings,
  items: ExplainItem[],
  metrics?: IngestMetrics,
  submittedAt = Date.now(),
): Promise<EnqueueResult> {
  const byId = new Map<string, ExplainItem>();
  for (const item of items) {
    const id = explainJobId(item.source, settings);
    if (!byId.has(id)) byId.set(id, item);
  }
  const ids = [...byId.keys()];
  if (ids.length === 0) return { jobIds: [], queued: 0, reused: 0 };

  const p = redis.pipeline().sadd(redisKeys.runJobs(runId), ...ids);
  for (const id of ids) p.sadd(redisKeys.jobRuns(id), runId).get(redisKeys.result(id));
  const replies = await p.exec();
  if (!replies) throw new Error('Redis pipeline aborted');

  const toQueue: { name: 'explain'; data: ExplainJob; opts: { jobId: string } }[] = [];
  const events: CompletionEvent[] = [];
  const rerun: string[] = [];
  ids.forEach((id, i) => {
    for (const [err] of [replies[0], replies[1 + 2 * i], replies[2 + 2 * i]]) if (err) throw err;
    const item = byId.get(id)!;
    const stored = replies[2 + 2 * i][1] as string | null;
    const previous = stored ? parseEvent(stored) : undefined;
    // A job that ran out of retries on a transient fault (an outage) is run again, not reused.
    if (previous?.type === 'job.failed' && previous.error.retryable) rerun.push(id);
    else if (previous) {
      events.push({
        ...previous,
        runId,
        label: item.label,
        labels: item.labels,
        split: item.split,
      });
      return;
    }
    const data: ExplainJob = { runId, source: item.source, settings, submittedAt };
    if (item.label !== undefined) data.label = item.label;
    if (item.labels !== undefined) data.labels = item.labels;
    if (item.split !== undefined) data.split = item.split;
    toQueue.push({ name: 'explain', data, opts: { ...EXPLAIN_JOB_OPTS, jobId: id } });
  });

  if (events.length > 0) {
    const x = redis.pipeline();
    for (const e of events) {
      x.xadd(
        EVENTS_STREAM,
        'MAXLEN',
        '~',
        EVENTS_STREAM_MAXLEN,
        '*',
        EVENT_FIELD,
        JSON.stringify(e),
      );
    }
    const r = await x.exec();
    const failed = r?.find(([err]) => err);
    if (failed) throw failed[0];
    metrics?.resultsReused.inc(events.length);
  }
  if (toQueue.length > 0) {
    await queue.addBulk(toQueue);
    metrics?.jobsEnqueued.inc({ queue: queue.name }, toQueue.length);
  }
  // BullMQ keeps failed jobs (removeOnFail), and adding an existing id does nothing: retry them.
  for (const id of rerun) {
    const job = await queue.getJob(id);
    if (!job || !(await job.isFailed())) continue;
    await job
      .retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
      .catch(async (err) => {
        // A concurrent submission may have retried it first; only a job still failed is an error.
        if (await job.isFailed()) throw err;
      });
  }
  return { jobIds: ids, queued: toQueue.length, reused: events.length };
}

/** A stored result, or undefined when it is unreadable (then the job is simply redone). */
function parseEvent(json: string): CompletionEvent | undefined {
  try {
    const r = completionEventSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The source identity a job is keyed by: the ETag pins content when known, so the same object
 * reached through a listing, a manifest or a notification gets the same job id; the version id
 * is only kept when there is no ETag.
 */
export function pinnedSource(
  bucket: string,
  key: string,
  etag?: string,
  versionId?: string,
): SourceObject {
  const clean = etag?.replaceAll('"', '');
  if (clean) return { bucket, key, etag: clean };
  return versionId ? { bucket, key, versionId } : { bucket, key };
}
