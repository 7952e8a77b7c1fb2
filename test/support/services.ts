// Real services for integration tests: with a Docker engine, Redis and MinIO containers
// (testcontainers); otherwise a redis-server child on a free port (never the machine's shared
// 6379, so tests can flush and kill it) and an s3rver over a temp folder. Tests that kill and
// restart the servers (appendonly) always use the local processes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@camflow/config';
import { loadConfig } from '@camflow/config';
import {
  type EmbeddedRedis,
  type EmbeddedS3,
  embeddedS3Env,
  S3Store,
  startEmbeddedS3,
  startRedisServer,
} from '@camflow/storage';
import { dockerEngineAvailable, startContainers } from './containers.js';

export interface TestServices {
  redis: Pick<EmbeddedRedis, 'url' | 'close'>;
  s3: Pick<EmbeddedS3, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'close'>;
  store: S3Store;
  /** Environment for services and CLI processes pointing at these servers. */
  env: Record<string, string>;
  config: Config;
  dir: string;
  close(): Promise<void>;
}

export async function startTestServices(
  opts: { appendonly?: boolean; env?: Record<string, string> } = {},
): Promise<TestServices> {
  const dir = await mkdtemp(join(tmpdir(), 'camflow-it-'));
  if (!opts.appendonly && dockerEngineAvailable()) {
    const c = await startContainers();
    return finish(
      dir,
      { url: c.redisUrl, close: async () => {} },
      { ...c.s3, close: c.close },
      opts.env,
    );
  }
  const redis = await startRedisServer({
    appendonly: opts.appendonly,
    dir: join(dir, 'redis'),
  }).catch(async (err) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  return finish(dir, redis, s3, opts.env);
}

async function finish(
  dir: string,
  redis: TestServices['redis'],
  s3: TestServices['s3'],
  extraEnv: Record<string, string> = {},
): Promise<TestServices> {
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    ...embeddedS3Env(s3.endpoint),
    CAMFLOW_OUTPUT_BUCKET: 'camflow-outputs',
    CAMFLOW_MODEL_BUCKET: 'camflow-models',
    ...extraEnv,
  };
  const config = loadConfig(env);
  const store = S3Store.fromConfig(config);
  await store.ensureBucket(config.CAMFLOW_OUTPUT_BUCKET);
  await store.ensureBucket(config.CAMFLOW_MODEL_BUCKET);
  return {
    redis,
    s3,
    store,
    env,
    config,
    dir,
    close: async () => {
      store.close();
      await s3.close();
      await redis.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
