import { PermanentError, type RunRecord, redisKeys, runRecordSchema } from '@camflow/contracts';
import type { Redis } from 'ioredis';

/** The run an audit job is about (PermanentError when it does not exist). */
export async function loadRunRecord(redis: Redis, runId: string): Promise<RunRecord> {
  const raw = await redis.hget(redisKeys.run(runId), 'record');
  const parsed = raw ? runRecordSchema.safeParse(JSON.parse(raw)) : undefined;
  if (!parsed?.success) throw new PermanentError('unknown-run', `run ${runId} does not exist`);
  return parsed.data;
}
