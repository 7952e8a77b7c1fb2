import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, loadConfig } from '@camflow/config';
import {
  type EmbeddedRedis,
  embeddedS3Env,
  freePort,
  resolveRedis,
  S3Store,
  startEmbeddedS3,
  startRedisServer,
} from '@camflow/storage';
import { type ServiceProcess, startServiceProcess, waitForHttp } from './service-process.js';

export interface DemoStack {
  config: Config;
  env: Record<string, string>;
  store: S3Store;
  token: string;
  ingestUrl: string;
  resultsUrl: string;
  /** Where Redis and S3 came from, for the user. */
  notes: string[];
  close(): Promise<void>;
}

/**
 * Redis (REDIS_URL when it is set and answers, else a redis-server child), S3 (S3_ENDPOINT when
 * set, else s3rver over `<dir>/s3`), and the three services as `camflow serve` processes with a
 * fresh admin token and an event rule for the `scanner` bucket; `extraEnv` (the hospital path's
 * DICOM rules and destination) goes to every service.
 */
export async function startDemoStack(
  dir: string,
  base: Config,
  redisUrlSet: boolean,
  extraEnv: Record<string, string> = {},
): Promise<DemoStack> {
  const notes: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    await mkdir(join(dir, 'logs'), { recursive: true });
    let redis: EmbeddedRedis;
    if (redisUrlSet) {
      redis = await resolveRedis(base.REDIS_URL);
      notes.push(
        redis.process
          ? `Redis: ${base.REDIS_URL} unreachable, started redis-server at ${redis.url}`
          : `Redis: ${redis.url}`,
      );
    } else {
      redis = await startRedisServer({ dir: join(dir, 'redis') });
      notes.push(`Redis: redis-server child at ${redis.url} (set REDIS_URL to use another)`);
    }
    cleanups.push(() => redis.close());
    let s3env: Record<string, string> = {};
    if (base.S3_ENDPOINT) {
      notes.push(`S3: ${base.S3_ENDPOINT}`);
    } else {
      const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
      cleanups.push(() => s3.close());
      s3env = embeddedS3Env(s3.endpoint);
      notes.push(`S3: s3rver at ${s3.endpoint} over ${join(dir, 's3')}`);
    }
    const token = `demo-${randomBytes(16).toString('hex')}`;
    const ports = { ingest: await freePort(), results: await freePort() };
    const env: Record<string, string> = {
      ...s3env,
      REDIS_URL: redis.url,
      // The demo's services listen on loopback only, whatever HOST the shell has.
      HOST: '127.0.0.1',
      INGEST_PORT: String(ports.ingest),
      RESULTS_PORT: String(ports.results),
      CAMFLOW_CACHE_DIR: join(dir, 'model-cache'),
      CAMFLOW_API_TOKENS: JSON.stringify({ [token]: { scopes: ['admin'], buckets: ['*'] } }),
      CAMFLOW_EVENT_RULES: JSON.stringify([
        { bucket: 'scanner', suffix: '.png', model: 'xray-clean@1' },
      ]),
      LOG_LEVEL: 'info',
      ...extraEnv,
    };
    const overrides = loadConfig(env);
    const config: Config = { ...base };
    for (const k of Object.keys(env) as (keyof Config)[])
      Object.assign(config, { [k]: overrides[k] });
    const store = S3Store.fromConfig(config);
    cleanups.push(async () => store.close());
    for (const bucket of [
      config.CAMFLOW_OUTPUT_BUCKET,
      config.CAMFLOW_MODEL_BUCKET,
      'data',
      'scanner',
    ]) {
      await store.ensureBucket(bucket);
    }
    const procs: ServiceProcess[] = (['ingest', 'results', 'worker'] as const).map((name) =>
      startServiceProcess(name, env, join(dir, 'logs', `${name}.log`)),
    );
    cleanups.push(() => Promise.all(procs.map((p) => p.stop())));
    const ingestUrl = `http://127.0.0.1:${ports.ingest}`;
    const resultsUrl = `http://127.0.0.1:${ports.results}`;
    await waitForHttp(`${ingestUrl}/healthz`);
    await waitForHttp(`${resultsUrl}/healthz`);
    return { config, env, store, token, ingestUrl, resultsUrl, notes, close };
  } catch (err) {
    await close();
    throw err;
  }
}
