import { type CompletionEvent, PermanentError } from '@camflow/contracts';
import type { Logger } from '@camflow/telemetry';
import { Job, type MinimalQueue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { failedEvent, parsePayload } from './process-job.js';

const STALL_LIMIT_REASON = 'job stalled more than allowable limit';

/**
 * BullMQ fails a job whose worker died too often (a poison image that crashes the process)
 * inside Redis, without any processor running, so nobody would publish its job.failed and its
 * run would never finish. This watches the queue's own events for that and publishes it; every
 * worker does, and duplicate events are harmless by contract.
 */
export function watchStalledFailures(
  queue: MinimalQueue,
  redis: Redis,
  publish: (event: CompletionEvent) => Promise<void>,
  workerId: string,
  logger: Logger,
): QueueEvents {
  // Options, not the client: QueueEvents then owns (and closes) its blocking connection.
  const events = new QueueEvents(queue.name, { connection: redis.options });
  events.on('failed', ({ jobId, failedReason }) => {
    if (failedReason !== STALL_LIMIT_REASON) return;
    void (async () => {
      const job = await Job.fromId(queue, jobId);
      // Audit jobs end in the audit's own state, not with a run's job.failed.
      if (job?.name !== 'explain') return;
      const payload = parsePayload(job.data);
      const err = new PermanentError(
        'stalled',
        `the job's worker stopped too often (${failedReason})`,
      );
      await publish(
        failedEvent(payload, { id: jobId, attempt: job.attemptsStarted || 1 }, err, workerId),
      );
      logger.warn({ jobId, runId: payload.runId }, 'stalled job failed; job.failed published');
    })().catch((err) => logger.error({ jobId, err: String(err) }, 'cannot report a stalled job'));
  });
  events.on('error', (err) => logger.warn({ err: err.message }, 'queue events connection error'));
  return events;
}
