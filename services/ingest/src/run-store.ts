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
 * Starts an expansion of the run: bumps its `epoch` and returns it. Progress is only saved under
 * the latest epoch, so an expander that lost its BullMQ lock (hung, then overtaken by another)
 * cannot move the cursor back or count a page twice when it wakes up.
 */
export async function claimExpansion(redis: Redis, runId: string): Promise<number> {
  return redis.hincrby(redisKeys.run(runId), 'epoch', 1);
}

/** Thrown when another expander has claimed the run since this one started. */
export class SupersededError extends Error {
  override name = 'SupersededError';
}

// KEYS[1] run hash; ARGV: epoch, cursor, count, invalid.
const SAVE_PROGRESS = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'cursor', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'listed', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[1], 'invalid', ARGV[4]) end
return 1`;

/**
 * Saves the resume point after a page is enqueued, with the page's entry count and its
 * unreadable manifest lines (field `invalid`), atomically and only under `epoch`.
 */
export async function saveProgress(
  redis: Redis,
  runId: string,
  epoch: number,
  page: { cursor: string; count: number; invalid?: number },
): Promise<void> {
  const args = [epoch, page.cursor, page.count, page.invalid ?? 0];
  const ok = await redis.eval(SAVE_PROGRESS, 1, redisKeys.run(runId), ...args);
  if (ok !== 1) throw new SupersededError(`run ${runId} is being expanded by another ingest`);
}

/** Counts entries added outside an expansion (bucket events). */
export async function addListed(redis: Redis, runId: string, count: number): Promise<void> {
  await redis.hincrby(redisKeys.run(runId), 'listed', count);
}

// KEYS[1] run hash; ARGV: epoch ('' = unfenced), record JSON.
const FINISH = `
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2])
return 1`;

/**
 * Marks listing as finished (`listingDone`), with the run's own error if it failed; under
 * `epoch` when given. Only the expansion of a run rewrites its record after creation, so the
 * read-modify-write is safe.
 */
export async function finishListing(
  redis: Redis,
  runId: string,
  opts: { error?: string; epoch?: number } = {},
): Promise<void> {
  const run = await getRun(redis, runId);
  if (!run) return;
  const { error, epoch } = opts;
  const record: RunRecord = { ...run.record, listingDone: true, ...(error ? { error } : {}) };
  const ok = await redis.eval(FINISH, 1, redisKeys.run(runId), epoch ?? '', JSON.stringify(record));
  if (ok !== 1) throw new SupersededError(`run ${runId} is being expanded by another ingest`);
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
