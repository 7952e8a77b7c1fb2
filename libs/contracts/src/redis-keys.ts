import { KEY_PREFIX } from './names.js';

/**
 * The Redis index shared by ingest (writes runs and membership) and the results API (writes
 * results and per-run progress). BullMQ keeps its own keys under `bull:`.
 *
 * - run(id): hash { record: JSON RunRecord, listed: keys enqueued so far, cursor: listing resume point }
 * - runJobs(id): set of job ids in the run (its total is SCARD)
 * - jobRuns(jobId): set of run ids a job belongs to (a job is shared when inputs are identical)
 * - result(jobId): JSON of the job's final CompletionEvent
 * - runDone(id) / runFailed(id): sets of job ids with that outcome in this run
 * - runOrder(id): zset jobId -> finishedAt, the order results are listed in
 * - runs: zset runId -> createdAt
 * - runLabels(id): hash jobId -> JSON manifest label (a shared job may have one per run)
 * - runSplits(id): hash jobId -> JSON {f: finishedAt, c: [counter fields]} (folder-label runs)
 * - runSplitCounts(id): hash "<split>\n<figure>" -> count (completed, failed, labelled, correct,
 *   "cm\n<truth>\n<predicted>"), kept by the results API from runSplits
 * - idempotency(owner, key): string "<runId> <request hash>" (POST /v1/runs Idempotency-Key)
 * - audit(id): hash { status, doc: JSON audit document, error, progress fields } (see audit.ts)
 */
export const redisKeys = {
  run: (id: string) => `${KEY_PREFIX}:run:${id}`,
  runJobs: (id: string) => `${KEY_PREFIX}:run:${id}:jobs`,
  runDone: (id: string) => `${KEY_PREFIX}:run:${id}:done`,
  runFailed: (id: string) => `${KEY_PREFIX}:run:${id}:failed`,
  runOrder: (id: string) => `${KEY_PREFIX}:run:${id}:order`,
  jobRuns: (jobId: string) => `${KEY_PREFIX}:job:${jobId}:runs`,
  result: (jobId: string) => `${KEY_PREFIX}:result:${jobId}`,
  runLabels: (id: string) => `${KEY_PREFIX}:run:${id}:labels`,
  audit: (id: string) => `${KEY_PREFIX}:run:${id}:audit`,
  runSplits: (id: string) => `${KEY_PREFIX}:run:${id}:splits`,
  runSplitCounts: (id: string) => `${KEY_PREFIX}:run:${id}:split-counts`,
  idempotency: (owner: string, key: string) => `${KEY_PREFIX}:idempotency:${owner}:${key}`,
  runs: `${KEY_PREFIX}:runs`,
} as const;
