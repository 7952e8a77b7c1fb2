/**
 * Starts a run's data-set audit when its last result is indexed: an `audit-plan` job on the bulk
 * queue (the workers run it), with a job id derived from the run, so two indexers (or a
 * redelivered event) start it once. Runs of a bucket's events or single jobs are not audited; a
 * run is when it asked (`audit: true`), or by default when it has at least AUDIT_MIN_IMAGES images.
 */
import { AUDIT_MIN_IMAGES, RETRY, redisKeys } from '@camflow/contracts';
import type { Logger } from '@camflow/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadRun, runCounts } from '../store/queries.js';
import { runState } from '../store/run-status.js';

export const auditPlanJobId = (runId: string) => `audit-plan-${runId}`;

export class AuditTrigger {
  /** Runs this process has already started or ruled out (Redis still decides across processes). */
  private readonly settled = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly bulk: Queue,
    private readonly logger: Logger,
  ) {}

  /** Checks the runs an indexed batch touched. */
  async check(runIds: Iterable<string>): Promise<void> {
    for (const runId of new Set(runIds)) {
      if (this.settled.has(runId)) continue;
      const run = await loadRun(this.redis, runId);
      if (!run) continue;
      const r = run.record;
      if (r.kind !== 'run' || r.audit === false) {
        this.settled.add(runId);
        continue;
      }
      const counts = await runCounts(this.redis, run);
      if (runState(run, counts) !== 'completed') continue;
      this.settled.add(runId);
      if (r.audit !== true && counts.total < AUDIT_MIN_IMAGES) continue;
      await start(this.redis, this.bulk, runId);
      this.logger.info({ runId, images: counts.total }, 'run completed: audit queued');
    }
  }
}

/** Queues a run's audit (idempotent) and marks it pending unless it already has a state. */
export async function start(redis: Redis, bulk: Queue, runId: string): Promise<void> {
  await redis.hsetnx(redisKeys.audit(runId), 'status', 'pending');
  await redis.hsetnx(redisKeys.audit(runId), 'requestedAt', Date.now());
  await bulk.add(
    'audit-plan',
    { runId },
    {
      jobId: auditPlanJobId(runId),
      ...RETRY['audit-plan'],
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
}
