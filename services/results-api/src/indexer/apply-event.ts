import { type CompletionEvent, redisKeys } from '@camflow/contracts';
import type { Redis } from 'ioredis';
import { runLabelsKey } from '../store/run-labels.js';
import { indexSplits } from '../store/run-splits.js';

// Compare-and-set of the job's result: an event replaces the stored one only when it finished
// at the same time or later, so redelivered or reclaimed events arriving out of order never
// bring back an outdated outcome. Returns the JSON that is stored afterwards.
const STORE_RESULT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and tonumber(old.finishedAt) and tonumber(old.finishedAt) > tonumber(ARGV[2]) then
    return cur
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

// Applies the stored result (re-read here, so two indexers racing on one job converge on the
// newest outcome) to each run: KEYS = result, then (done, failed, order) per run.
const APPLY_RESULT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ev = cjson.decode(cur)
local added = 0
for i = 2, #KEYS, 3 do
  local into, from = KEYS[i], KEYS[i + 1]
  if ev.type == 'job.failed' then into, from = KEYS[i + 1], KEYS[i] end
  added = added + redis.call('SADD', into, ev.jobId)
  redis.call('SREM', from, ev.jobId)
  redis.call('ZADD', KEYS[i + 2], ev.finishedAt, ev.jobId)
end
return added
`;

/** What indexing one event did. */
export interface IndexOutcome {
  /** Every run the job counts in (its memberships plus the event's own run). */
  runIds: string[];
  /** How many (run, job) outcomes were new: 0 for a duplicate. */
  added: number;
}

/**
 * Indexes one validated completion event (`raw` is its JSON, stored as is so fields the schema
 * does not know survive). Idempotent: applying the same event twice changes nothing.
 */
export async function indexEvent(
  redis: Redis,
  event: CompletionEvent,
  raw: string,
): Promise<IndexOutcome> {
  const resultKey = redisKeys.result(event.jobId);
  // The result is stored BEFORE reading the job's runs: ingest adds a run to jobRuns before it
  // checks for a result, so one of the two always sees the other and no run is left uncounted.
  const stored = (await redis.eval(STORE_RESULT, 1, resultKey, raw, event.finishedAt)) as string;
  const members = await redis.smembers(redisKeys.jobRuns(event.jobId));
  const storedRunId = (JSON.parse(stored) as { runId?: string }).runId;
  const runIds = [...new Set([...members, event.runId, storedRunId ?? event.runId])];
  const keys = runIds.flatMap((r) => [
    redisKeys.runDone(r),
    redisKeys.runFailed(r),
    redisKeys.runOrder(r),
  ]);
  const added = (await redis.eval(APPLY_RESULT, keys.length + 1, resultKey, ...keys)) as number;
  if (event.label !== undefined)
    await redis.hset(runLabelsKey(event.runId), event.jobId, JSON.stringify(event.label));
  await indexSplits(redis, event, JSON.parse(stored) as CompletionEvent, runIds);
  return { runIds, added };
}
