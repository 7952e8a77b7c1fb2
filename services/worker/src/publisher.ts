import {
  type CompletionEvent,
  completionEventSchema,
  EVENT_FIELD,
  EVENTS_STREAM,
  EVENTS_STREAM_MAXLEN,
} from '@camflow/contracts';
import type { Redis } from 'ioredis';

/**
 * Appends completion events to the bounded events stream (`MAXLEN ~`, so trimming stays cheap).
 * Each event is checked against the contract first: a malformed event is a bug here, better
 * caught before the results API has to reject it.
 */
export function eventPublisher(redis: Redis): (event: CompletionEvent) => Promise<void> {
  return async (event) => {
    const checked = completionEventSchema.parse(event);
    await redis.xadd(
      EVENTS_STREAM,
      'MAXLEN',
      '~',
      String(EVENTS_STREAM_MAXLEN),
      '*',
      EVENT_FIELD,
      JSON.stringify(checked),
    );
  };
}
