import { hostname } from 'node:os';
import {
  completionEventSchema,
  EVENT_FIELD,
  EVENTS_STREAM,
  RESULTS_GROUP,
} from '@camflow/contracts';
import type { Logger } from '@camflow/telemetry';
import type { Redis } from 'ioredis';
import type { ResultsMetrics } from '../metrics.js';
import { indexEvent } from './apply-event.js';

export interface IndexerOptions {
  /** This process's name in the consumer group (unique per process). */
  consumer: string;
  /** How long one XREADGROUP blocks (ms); also bounds how stale a reclaim check can be. */
  blockMs: number;
  /** Entries per read. */
  count: number;
  /** Pending entries idle this long (ms) belong to a dead consumer and are taken over. */
  claimIdleMs: number;
  /** How often (ms) to look for such entries while running. */
  claimEveryMs: number;
}

export const INDEXER_DEFAULTS: Omit<IndexerOptions, 'consumer'> = {
  blockMs: 5000,
  count: 100,
  claimIdleMs: 60_000,
  claimEveryMs: 30_000,
};

/** A consumer name unique to this process. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

type Entry = [id: string, fields: string[] | null];

/**
 * Consumes the completion-event stream in the results consumer group and indexes each event
 * (see index-event.ts), acknowledging only after the index is written: a killed process leaves
 * its entries pending, and any live indexer reclaims them with XAUTOCLAIM.
 */
export class Indexer {
  private readonly opts: IndexerOptions;
  private closed = false;
  private loop?: Promise<void>;
  private lastClaim = 0;
  /** Set when indexing failed (Redis went away mid-batch): this consumer's pending entries are read again. */
  private retryOwn = false;

  /**
   * `redis` runs commands; `blocking` is this indexer's own connection for XREADGROUP BLOCK
   * (it is disconnected on close to cut a blocked read short).
   */
  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly logger: Logger,
    private readonly metrics: ResultsMetrics,
    opts: Partial<IndexerOptions> = {},
    /** Called with the runs each indexed batch touched (e.g. to start audits of completed runs). */
    private readonly onIndexed?: (runIds: string[]) => Promise<void>,
  ) {
    this.opts = { ...INDEXER_DEFAULTS, consumer: defaultConsumerName(), ...opts };
  }

  /** Creates the group if needed, reclaims abandoned entries, then consumes in the background. */
  async start(): Promise<void> {
    await ensureGroup(this.redis);
    await this.reclaim();
    this.loop = this.run();
  }

  /** Stops consuming (a blocked read is cut short); unacknowledged entries stay pending. */
  async close(): Promise<void> {
    if (this.closed) return this.loop;
    this.closed = true;
    this.blocking.disconnect();
    await this.loop;
    // A consumer with nothing pending is forgotten, so restarts do not pile up dead names.
    try {
      const pending = (await this.redis.xpending(
        EVENTS_STREAM,
        RESULTS_GROUP,
        '-',
        '+',
        1,
        this.opts.consumer,
      )) as unknown[];
      if (pending.length === 0)
        await this.redis.xgroup('DELCONSUMER', EVENTS_STREAM, RESULTS_GROUP, this.opts.consumer);
    } catch {
      // The main connection may already be gone; forgetting the name is only tidiness.
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        if (Date.now() - this.lastClaim >= this.opts.claimEveryMs) await this.reclaim();
        if (this.retryOwn) {
          // Throws while Redis is still down (tried again next turn); an entry that fails again
          // in this pass is left to the idle reclaim, so one bad entry cannot stall new ones.
          await this.retryOwnPending();
          this.retryOwn = false;
        }
        const res = (await this.blocking.xreadgroup(
          'GROUP',
          RESULTS_GROUP,
          this.opts.consumer,
          'COUNT',
          this.opts.count,
          'BLOCK',
          this.opts.blockMs,
          'STREAMS',
          EVENTS_STREAM,
          '>',
        )) as [string, Entry[]][] | null;
        for (const [, entries] of res ?? []) await this.handle(entries);
      } catch (err) {
        if (this.closed) break;
        const e = err as Error;
        // The group vanishes if someone deletes the stream; make it again and go on.
        if (/NOGROUP/.test(e.message)) await ensureGroup(this.redis).catch(() => {});
        this.logger.warn({ err: e.message }, 'indexer read failed; retrying');
        await sleep(1000);
      }
    }
  }

  /**
   * Indexes again the entries this consumer read but could not index (their index writes failed),
   * right away instead of after the idle time the reclaim waits for.
   */
  private async retryOwnPending(): Promise<void> {
    let after = '0';
    while (!this.closed) {
      const res = (await this.redis.xreadgroup(
        'GROUP',
        RESULTS_GROUP,
        this.opts.consumer,
        'COUNT',
        this.opts.count,
        'STREAMS',
        EVENTS_STREAM,
        after,
      )) as [string, Entry[]][] | null;
      const entries = res?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      await this.handle(entries, true);
      after = entries[entries.length - 1][0];
    }
  }

  /** Takes over entries that another (dead) consumer read but never acknowledged. */
  private async reclaim(): Promise<void> {
    this.lastClaim = Date.now();
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.redis.xautoclaim(
        EVENTS_STREAM,
        RESULTS_GROUP,
        this.opts.consumer,
        this.opts.claimIdleMs,
        cursor,
        'COUNT',
        this.opts.count,
      )) as [string, Entry[], string[]?];
      if (entries.length > 0) {
        this.metrics.reclaimed.inc(entries.length);
        await this.handle(entries);
      }
      cursor = next;
    } while (cursor !== '0-0' && !this.closed);
  }

  /**
   * Indexes and acknowledges `entries` in order. A failure leaves the entry pending; it stops the
   * batch (Redis is likely gone; the rest are read again with the entry) unless `tryAll`.
   */
  private async handle(entries: Entry[], tryAll = false): Promise<void> {
    const touched = new Set<string>();
    try {
      await this.indexEntries(entries, tryAll, touched);
    } finally {
      if (touched.size > 0 && this.onIndexed) {
        await this.onIndexed([...touched]).catch((err) =>
          this.logger.warn({ err: (err as Error).message }, 'after-indexing hook failed'),
        );
      }
    }
  }

  private async indexEntries(
    entries: Entry[],
    tryAll: boolean,
    touched: Set<string>,
  ): Promise<void> {
    for (const [id, fields] of entries) {
      if (this.closed) return;
      const raw = fieldValue(fields, EVENT_FIELD);
      const parsed = raw === undefined ? undefined : safeParse(raw);
      if (!parsed) {
        // A malformed entry can never index; acknowledging it keeps it from being retried forever.
        this.metrics.malformed.inc();
        this.logger.warn({ entry: id }, 'malformed completion event acknowledged and skipped');
        await this.redis.xack(EVENTS_STREAM, RESULTS_GROUP, id);
        continue;
      }
      try {
        const outcome = await indexEvent(this.redis, parsed, raw as string);
        for (const r of outcome.runIds) touched.add(r);
        this.metrics.observeIndexed(parsed, outcome.added === 0);
        await this.redis.xack(EVENTS_STREAM, RESULTS_GROUP, id);
      } catch (err) {
        // This entry and the rest of the batch stay pending; they are read again from this
        // consumer's pending list (retryOwnPending), or else reclaimed once idle.
        this.logger.warn({ entry: id, err: (err as Error).message }, 'indexing failed');
        if (this.closed) return;
        if (!tryAll) {
          this.retryOwn = true;
          return;
        }
      }
    }
  }
}

/** Creates the results consumer group from the stream's start (and the stream) if missing. */
export async function ensureGroup(redis: Redis): Promise<void> {
  try {
    await redis.xgroup('CREATE', EVENTS_STREAM, RESULTS_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!/BUSYGROUP/.test((err as Error).message)) throw err;
  }
}

function fieldValue(fields: string[] | null, name: string): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function safeParse(raw: string) {
  try {
    const r = completionEventSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
