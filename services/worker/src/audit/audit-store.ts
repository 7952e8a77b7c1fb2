/**
 * An audit's state in Redis (`redisKeys.audit(runId)`): what the results API answers while the
 * audit runs and after. Fields: status, stage, startedAt, finishedAt, images, chunks, chunksDone,
 * error, doc (the document's JSON once done).
 */
import { type AuditDocument, type AuditStatus, redisKeys } from '@camflow/contracts';
import type { Redis } from 'ioredis';

export async function setAuditState(
  redis: Redis,
  runId: string,
  fields: { status?: AuditStatus; stage?: string; [k: string]: string | number | undefined },
): Promise<void> {
  const flat: (string | number)[] = [];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) flat.push(k, v);
  if (flat.length > 0) await redis.hset(redisKeys.audit(runId), ...flat);
}

export async function saveAuditDoc(redis: Redis, runId: string, doc: AuditDocument): Promise<void> {
  await redis.hset(
    redisKeys.audit(runId),
    'status',
    'done',
    'stage',
    'done',
    'finishedAt',
    Date.now(),
    'doc',
    JSON.stringify(doc),
  );
  await redis.hdel(redisKeys.audit(runId), 'error');
}

/** Counts a finished occlusion chunk (progress only). */
export async function chunkDone(redis: Redis, runId: string): Promise<void> {
  await redis.hincrby(redisKeys.audit(runId), 'chunksDone', 1);
}
