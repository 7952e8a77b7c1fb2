import { redisKeys } from '@camflow/contracts';
import type { Redis } from 'ioredis';

/**
 * Per-run manifest labels: hash jobId -> JSON label. A job shared by two runs has one stored
 * result but may carry a different label (or none) in each run's manifest, so the label a run's
 * event brought is kept per run. Only the results API reads and writes this key.
 */
export const runLabelsKey = redisKeys.runLabels;

/** Labels of some jobs in a run (undefined where the run's own events brought none). */
export async function runLabels(
  redis: Redis,
  runId: string,
  jobIds: string[],
): Promise<(number | string | undefined)[]> {
  if (jobIds.length === 0) return [];
  const raw = await redis.hmget(runLabelsKey(runId), ...jobIds);
  return raw.map((v) => (v === null ? undefined : (JSON.parse(v) as number | string)));
}
