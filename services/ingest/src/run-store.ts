import { type RunRecord, redisKeys, runRecordSchema } from '@camflow/contracts';
import type { Redis } from 'ioredis';

/** A run as the expansion worker sees it: the record plus its listing progress. */
export interface StoredRun {
  record: RunRecord;
  /** Where listing resumes (S3 continuation token, key index or manifest line); '' = start. */
  cursor: string;
  /** Source entries enqueued so far. */
  listed: number;
}

/** Writes a new run (hash `run(id)`) and adds it to the `runs` index, atomically. */
export async function createRun(redis: Redis, record: RunRecord, listed = 0): Promise<void> {
  await redis
    .multi()
    .hset(redisKeys.run(record.runId), { record: JSON.stringify(record), listed, cursor: '' })
    .zadd(redisKeys.runs, record.createdAt, record.runId)
    .exec()
    .then(execResult);
}

/**
 * Creates the run unless it exists (HSETNX decides, so concurrent webhooks agree on one
 * record). Returns true when this call created it.
 */
export async function ensureRun(redis: Redis, record: RunRecord): Promise<boolean> {
  const key = redisKeys.run(record.runId);
  const created = await redis.hsetnx(key, 'record', JSON.stringify(record));
  if (created === 1) {
    await redis
      .multi()
      .hsetnx(key, 'listed', '0')
      .zadd(redisKeys.runs, 'NX', record.createdAt, record.runId)
      .exec()
      .then(execResult);
  }
  return created === 1;
}

/** Reads a run, or undefined when there is none. */
export async function getRun(redis: Redis, runId: string): Promise<StoredRun | undefined> {
  const [record, cursor, listed] = await redis.hmget(
    redisKeys.run(runId),
    'record',
    'cursor',
    'listed',
  );
  if (!record) return undefined;
  return {
    record: runRecordSchema.parse(JSON.parse(record)),
    cursor: cursor ?? '',
    listed: Number(listed ?? 0),
  };
}

/**
 * Saves the resume point after a page is enqueued, with the page's entry count and its
 * unreadable manifest lines (field `invalid`), atomically.
 */
export async function saveProgress(
  redis: Redis,
  runId: string,
  cursor: string,
  count: number,
  invalid = 0,
): Promise<void> {
  const key = redisKeys.run(runId);
  const m = redis.multi().hset(key, 'cursor', cursor).hincrby(key, 'listed', count);
  if (invalid > 0) m.hincrby(key, 'invalid', invalid);
  await m.exec().then(execResult);
}

/** Counts entries added outside an expansion (bucket events). */
export async function addListed(redis: Redis, runId: string, count: number): Promise<void> {
  await redis.hincrby(redisKeys.run(runId), 'listed', count);
}

/**
 * Marks listing as finished (`listingDone`), with the run's own error if it failed. Only the
 * expansion of a run rewrites its record after creation, so read-modify-write is safe here.
 */
export async function finishListing(redis: Redis, runId: string, error?: string): Promise<void> {
  const run = await getRun(redis, runId);
  if (!run) return;
  const record: RunRecord = { ...run.record, listingDone: true, ...(error ? { error } : {}) };
  await redis.hset(redisKeys.run(runId), 'record', JSON.stringify(record));
}

/** Removes a run that could not be started (its expansion job was never queued). */
export async function deleteRun(redis: Redis, runId: string): Promise<void> {
  await redis.multi().del(redisKeys.run(runId)).zrem(redisKeys.runs, runId).exec();
}

/** MULTI replies carry per-command errors; surface the first one. */
function execResult(replies: [Error | null, unknown][] | null): void {
  if (!replies) throw new Error('Redis transaction aborted');
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
}
