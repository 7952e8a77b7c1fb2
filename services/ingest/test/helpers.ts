// Shared set-up of the ingest integration tests: real Redis and s3rver (test/support), tokens
// with different scopes and buckets, event rules, the seed model pushed as xray@1, and a small
// HTTP client.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExplainJob, QUEUES } from '@camflow/contracts';
import { seedCardJson } from '@camflow/imaging';
import type { ObjectInfo, ObjectStore } from '@camflow/storage';
import { createLogger } from '@camflow/telemetry';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type IngestOptions, type IngestService, pushModel, startIngest } from '../src/index.js';

export const TOKENS = {
  /** runs:write on bucket `data` only. */
  writer: 'writer-token-0123456789',
  /** events:write on bucket `scans`. */
  events: 'events-token-0123456789',
  /** results:read everywhere: no write scope. */
  reader: 'reader-token-0123456789',
  admin: 'admin-token-0123456789abcdef',
};

export const RULES = [
  { bucket: 'scans', prefix: 'incoming/', model: 'xray@1' },
  { bucket: 'scans', suffix: '.dcm', model: 'xray@1', method: 'layercam' },
];

export const SEED_ONNX = new URL('../../../test/fixtures/goldens/xray/model.onnx', import.meta.url)
  .pathname;

export interface Env {
  ts: TestServices;
  redis: Redis;
  queues: { bulk: Queue<ExplainJob>; realtime: Queue<ExplainJob>; runs: Queue };
  close(): Promise<void>;
}

/** Real Redis + S3 with tokens and rules in the config, buckets `data` and `scans`, xray@1. */
export async function startEnv(): Promise<Env> {
  const ts = await startTestServices({
    env: {
      CAMFLOW_API_TOKENS: JSON.stringify({
        [TOKENS.writer]: { scopes: ['runs:write'], buckets: ['data'] },
        [TOKENS.events]: { scopes: ['events:write'], buckets: ['scans'] },
        [TOKENS.reader]: { scopes: ['results:read'], buckets: ['*'] },
        [TOKENS.admin]: { scopes: ['admin'] },
      }),
      CAMFLOW_EVENT_RULES: JSON.stringify(RULES),
    },
  });
  await ts.store.ensureBucket('data');
  await ts.store.ensureBucket('scans');
  await pushSeed(ts.store, ts.config.CAMFLOW_MODEL_BUCKET);
  const redis = new Redis(ts.redis.url, { maxRetriesPerRequest: null });
  const queues = {
    bulk: new Queue<ExplainJob>(QUEUES.bulk, { connection: redis }),
    realtime: new Queue<ExplainJob>(QUEUES.realtime, { connection: redis }),
    runs: new Queue(QUEUES.runs, { connection: redis }),
  };
  return {
    ts,
    redis,
    queues,
    close: async () => {
      await Promise.all(Object.values(queues).map((q) => q.close()));
      redis.disconnect();
      await ts.close();
    },
  };
}

/** Pushes the seed model as xray@1 through `pushModel`. */
export async function pushSeed(store: ObjectStore, bucket: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'camflow-card-'));
  const cardPath = join(dir, 'model.json');
  await writeFile(cardPath, JSON.stringify(seedCardJson));
  await pushModel(
    store,
    { CAMFLOW_MODEL_BUCKET: bucket },
    {
      onnxPath: SEED_ONNX,
      cardPath,
      name: 'xray',
      version: '1',
    },
  );
  await rm(dir, { recursive: true, force: true });
}

/** Starts ingest in-process on a free port, quiet. */
export function startService(env: Env, opts: IngestOptions = {}): Promise<IngestService> {
  return startIngest(env.ts.config, {
    port: 0,
    host: '127.0.0.1',
    logger: createLogger('ingest', process.env.LOG_LEVEL ?? 'silent'),
    ...opts,
  });
}

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked field by field in tests
  body: any;
}

/** A tiny HTTP client for one service. */
export function client(port: number) {
  const call = async (
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: r.status, headers: r.headers, body: parsed };
  };
  return {
    get: (path: string, token?: string) => call('GET', path, { token }),
    post: (
      path: string,
      body: unknown,
      token?: string,
      extra: { raw?: string; headers?: Record<string, string> } = {},
    ) => call('POST', path, { token, body: extra.raw === undefined ? body : undefined, ...extra }),
  };
}

/** Puts `count` tiny objects `<prefix><i>.png` (content = the key), 32 at a time. */
export async function putObjects(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const keys = Array.from(
    { length: count },
    (_, i) => `${prefix}${String(i).padStart(5, '0')}.png`,
  );
  let next = 0;
  const lane = async () => {
    while (next < keys.length) {
      const k = keys[next++];
      await store.put(bucket, k, k, 'image/png');
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return keys;
}

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** An ObjectStore wrapper that records list calls and can slow them down or fail one. */
export class SpyStore implements ObjectStore {
  readonly listTokens: (string | undefined)[] = [];
  listDelayMs = 0;
  /** 1-based list call numbers that throw a transient (503) error once. */
  failListCalls = new Set<number>();
  /** A 1-based list call that hangs until `release()` (a process frozen mid-run). */
  hangListCall?: number;
  private released?: () => void;
  private readonly gate = new Promise<void>((r) => {
    this.released = r;
  });
  hanging = false;

  constructor(private readonly inner: ObjectStore) {}

  get: ObjectStore['get'] = (b, k, o) => this.inner.get(b, k, o);
  getStream: ObjectStore['getStream'] = (b, k) => this.inner.getStream(b, k);
  head = (b: string, k: string): Promise<ObjectInfo | undefined> => this.inner.head(b, k);
  put: ObjectStore['put'] = (b, k, body, t) => this.inner.put(b, k, body, t);
  presign: ObjectStore['presign'] = (b, k, e) => this.inner.presign(b, k, e);
  ensureBucket: ObjectStore['ensureBucket'] = (b) => this.inner.ensureBucket(b);
  close(): void {}

  /** Lets a hung list call go on. */
  release(): void {
    this.released?.();
  }

  async list(bucket: string, prefix: string, token?: string, pageSize?: number) {
    this.listTokens.push(token);
    const n = this.listTokens.length;
    if (this.listDelayMs) await sleep(this.listDelayMs);
    if (n === this.hangListCall) {
      this.hanging = true;
      await this.gate;
    }
    if (this.failListCalls.delete(n)) {
      throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
        name: 'ServiceUnavailable',
        $metadata: { httpStatusCode: 503 },
      });
    }
    return this.inner.list(bucket, prefix, token, pageSize);
  }
}
