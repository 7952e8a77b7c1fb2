// The whole pipeline on this machine for fault tests: a redis-server with AOF on a fixed port and
// directory, an s3rver over a folder, ingest, results API and N workers as separate processes.
// Each part can be killed and started again in place (same port, same data).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '@camflow/config';
import { EVENTS_STREAM, QUEUES, RESULTS_GROUP } from '@camflow/contracts';
import { seedCardJson } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import {
  type EmbeddedRedis,
  type EmbeddedS3,
  embeddedS3Env,
  freePort,
  S3Store,
  startEmbeddedS3,
  startRedisServer,
} from '@camflow/storage';
import { Redis } from 'ioredis';
import { waitForHttp } from '../../../services/cli/src/demo/service-process.js';
import { PipelineApi } from './api.js';
import { type Exit, type Service, type ServiceName, startService } from './service.js';

export const ADMIN_TOKEN = 'reliability-admin-token-0123456789';
/** The model every fault run explains with: the seed XRayClassifier export. */
export const MODEL = 'xray@1';
export const DATA_BUCKET = 'data';
/** Bucket whose notifications the event rule maps to MODEL. */
export const EVENTS_BUCKET = 'scanner';

const MODEL_ONNX = new URL('../../fixtures/goldens/xray/model.onnx', import.meta.url).pathname;

export interface PipelineOptions {
  /** Worker processes (default 1). */
  workers?: number;
  /** Worker start options (lockDuration, stalledInterval); unset: plain `camflow serve worker`. */
  workerOptions?: Record<string, unknown>;
  /** Results API start options ({ indexer: { claimIdleMs, ... } }); unset: `camflow serve results`. */
  resultsOptions?: Record<string, unknown>;
  /** Extra environment for every service (BATCH_SIZE, WORKER_CONCURRENCY, ...). */
  env?: Record<string, string>;
}

/** A worker process and its metrics port. */
export interface WorkerProcess {
  service: Service;
  metricsPort: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running pipeline; see the file comment. */
export class Pipeline {
  redis?: EmbeddedRedis;
  s3?: EmbeddedS3;
  ingest?: Service;
  results?: Service;
  readonly workers: WorkerProcess[] = [];
  readonly api: PipelineApi;
  private inspector?: Redis;
  private logCount = 0;

  private constructor(
    readonly dir: string,
    readonly opts: PipelineOptions,
    readonly redisPort: number,
    readonly s3Port: number,
    readonly ports: { ingest: number; results: number },
    readonly env: Record<string, string>,
    readonly config: Config,
    readonly store: S3Store,
  ) {
    this.api = new PipelineApi(
      `http://127.0.0.1:${ports.ingest}`,
      `http://127.0.0.1:${ports.results}`,
      ADMIN_TOKEN,
    );
  }

  /** Starts everything and waits until every service answers its health check. */
  static async start(opts: PipelineOptions = {}): Promise<Pipeline> {
    const dir = await mkdtemp(join(tmpdir(), 'camflow-faults-'));
    const [redisPort, s3Port, ingest, results] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const env: Record<string, string> = {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ...embeddedS3Env(`http://127.0.0.1:${s3Port}`),
      CAMFLOW_OUTPUT_BUCKET: 'camflow-outputs',
      CAMFLOW_MODEL_BUCKET: 'camflow-models',
      CAMFLOW_CACHE_DIR: join(dir, 'model-cache'),
      INGEST_PORT: String(ingest),
      RESULTS_PORT: String(results),
      BATCH_SIZE: '4',
      WORKER_CONCURRENCY: '4',
      // One ONNX Runtime thread per worker: fault runs start several workers on a small machine.
      CAMFLOW_INTRA_OP_THREADS: '1',
      CAMFLOW_API_TOKENS: JSON.stringify({ [ADMIN_TOKEN]: { scopes: ['admin'], buckets: ['*'] } }),
      CAMFLOW_EVENT_RULES: JSON.stringify([
        { bucket: EVENTS_BUCKET, suffix: '.png', model: MODEL },
      ]),
      ...opts.env,
    };
    const config = loadConfig(env);
    const store = S3Store.fromConfig(config);
    const p = new Pipeline(dir, opts, redisPort, s3Port, { ingest, results }, env, config, store);
    try {
      await p.startRedis();
      await p.startS3();
      await store.ensureBucket(config.CAMFLOW_OUTPUT_BUCKET);
      const card = join(dir, 'model.json');
      writeFileSync(
        card,
        JSON.stringify({ ...seedCardJson, name: 'xray', version: '1', layer: 'resnet_blocks.4' }),
      );
      await pushModel(store, config, {
        onnxPath: MODEL_ONNX,
        cardPath: card,
        name: 'xray',
        version: '1',
      });
      p.ingest = p.spawn('ingest');
      // Started side by side: each waits only for its own health check.
      await Promise.all([
        waitForHttp(`${p.api.ingestUrl}/healthz`),
        p.startResults(),
        ...Array.from({ length: opts.workers ?? 1 }, () => p.startWorker()),
      ]);
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  /** Starts redis-server with AOF on this pipeline's port and directory. */
  async startRedis(): Promise<void> {
    this.redis = await startRedisServer({
      port: this.redisPort,
      dir: join(this.dir, 'redis'),
      appendonly: true,
    });
  }

  /** Stops redis-server with `signal` and waits for it to exit. */
  async stopRedis(signal: NodeJS.Signals): Promise<void> {
    const child = this.redis?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Starts s3rver on this pipeline's port and folder. */
  async startS3(): Promise<void> {
    this.s3 = await startEmbeddedS3({ directory: join(this.dir, 's3'), port: this.s3Port });
  }

  /** Stops s3rver (its folder stays). */
  async stopS3(): Promise<void> {
    await this.s3?.close();
  }

  /** Starts a worker process and waits until its /readyz says ready (consuming). */
  async startWorker(): Promise<WorkerProcess> {
    const metricsPort = await freePort();
    const service = this.spawn(
      'worker',
      { WORKER_METRICS_PORT: String(metricsPort) },
      this.opts.workerOptions,
    );
    const w = { service, metricsPort };
    this.workers.push(w);
    await waitForHttp(`http://127.0.0.1:${metricsPort}/readyz`, 60_000);
    return w;
  }

  /** Starts the results API and waits until it answers. */
  async startResults(): Promise<void> {
    this.results = this.spawn('results', {}, this.opts.resultsOptions);
    await waitForHttp(`${this.api.resultsUrl}/healthz`);
  }

  /** Worker `i`'s Prometheus text. */
  async workerMetrics(i: number): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.workers[i].metricsPort}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    return r.text();
  }

  /** A Redis connection for looking at BullMQ's and camflow's keys (reconnects by itself). */
  inspect(): Redis {
    if (!this.inspector) {
      this.inspector = new Redis(this.env.REDIS_URL, { maxRetriesPerRequest: 5 });
      this.inspector.on('error', () => {});
    }
    return this.inspector;
  }

  /** BullMQ's stalled counter of an explain job (how often its worker died under it). */
  async stalledCount(jobId: string, queue: string = QUEUES.bulk): Promise<number> {
    return Number((await this.inspect().hget(`bull:${queue}:${jobId}`, 'stc')) ?? 0);
  }

  /** Completion events read by a results API and not yet acknowledged (indexed). */
  async pendingEvents(): Promise<number> {
    const summary = (await this.inspect().xpending(EVENTS_STREAM, RESULTS_GROUP)) as [number];
    return Number(summary[0]);
  }

  /** Objects under `prefix` in the output bucket. */
  async outputObjects(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let next: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.store.list(this.config.CAMFLOW_OUTPUT_BUCKET, prefix, next, 1000);
      keys.push(...r.objects.map((o) => o.key));
      next = r.next;
      if (!next) return keys;
    }
    throw new Error('output listing: more than 1000 pages');
  }

  /** The last lines of every service log (for failure messages). */
  logTail(lines = 20): string {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => {
        const text = readFileSync(join(this.dir, f), 'utf8').trim().split('\n');
        return `--- ${f}\n${text.slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** Stops every service (SIGTERM, SIGKILL after 15 s), the servers, and removes the folder. */
  async close(): Promise<Exit[]> {
    const services = [this.ingest, this.results, ...this.workers.map((w) => w.service)].filter(
      (s): s is Service => s !== undefined,
    );
    const exits = await Promise.all(
      services.map(async (s) => {
        const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
        const exit = await s.stop('SIGTERM');
        clearTimeout(timer);
        return exit;
      }),
    );
    this.inspector?.disconnect();
    this.store.close();
    await this.s3?.close().catch(() => {});
    await this.redis?.close().catch(() => {});
    if (!process.env.CAMFLOW_KEEP_FAULT_DIRS) await rm(this.dir, { recursive: true, force: true });
    return exits;
  }

  private spawn(
    name: ServiceName,
    env: Record<string, string> = {},
    options?: Record<string, unknown>,
  ): Service {
    const log = join(this.dir, `${name}-${++this.logCount}.log`);
    return startService(name, { ...this.env, ...env }, log, options);
  }
}

/** Waits until `check()` is true, polling every `everyMs`; throws after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
