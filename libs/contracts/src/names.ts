/** BullMQ queue names. Realtime jobs (bucket events, single jobs) have their own queue so a
 * 100k-image bulk run never delays them. */
export const QUEUES = {
  realtime: 'camflow-realtime',
  bulk: 'camflow-bulk',
  /** Run expansion: listing a prefix or a manifest into explain jobs, resumably. */
  runs: 'camflow-runs',
} as const;
export type ExplainQueue = typeof QUEUES.realtime | typeof QUEUES.bulk;

/** The Redis stream of completion events (bounded with MAXLEN ~). */
export const EVENTS_STREAM = 'camflow:events';
export const EVENTS_STREAM_MAXLEN = 100_000;
/** The results API's consumer group on the events stream. */
export const RESULTS_GROUP = 'results-api';

/** Redis key prefix of everything camflow keeps besides BullMQ's own keys. */
export const KEY_PREFIX = 'camflow';

/**
 * Run and job ids as they may appear in URLs: letters, digits, `.`, `_`, `-` (no `:`, which
 * would address another of the run's Redis keys, and no `/`). Others answer 404 at once.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}
