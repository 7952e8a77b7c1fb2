import { setTimeout as sleep } from 'node:timers/promises';

/** Something with a waiting count (a BullMQ Queue). */
export interface Countable {
  getWaitingCount(): Promise<number>;
}

/** Backlog limits of a queue. */
export interface Watermarks {
  /** Pause listing when more jobs than this are waiting. */
  high: number;
  /** Resume once fewer than this are waiting. */
  low: number;
  /** How often to look while paused. */
  pollMs: number;
}

/**
 * Waits until `queue` has room: returns at once below the high-water mark; otherwise polls
 * until the backlog drains below the low-water mark (hysteresis, so listing runs in long
 * stretches rather than a page at a time). Returns false if `signal` aborts while waiting.
 */
export async function waitForRoom(
  queue: Countable,
  marks: Watermarks,
  signal?: AbortSignal,
  onPause?: (paused: boolean) => void,
): Promise<boolean> {
  if ((await queue.getWaitingCount()) <= marks.high) return true;
  onPause?.(true);
  try {
    for (;;) {
      if (signal?.aborted) return false;
      await sleep(marks.pollMs, undefined, { signal }).catch(() => {});
      if (signal?.aborted) return false;
      if ((await queue.getWaitingCount()) < marks.low) return true;
    }
  } finally {
    onPause?.(false);
  }
}
