// Real services for integration tests: a redis-server child on a free port (never the machine's
// shared 6379, so tests can flush and kill it) and an s3rver over a temp folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@camflow/config';
import { loadConfig } from '@camflow/config';
import {
  type EmbeddedRedis,
  type EmbeddedS3,
  S3Store,
  startEmbeddedS3,
  startRedisServer,
} from '@camflow/storage';

export interface TestServices {
  redis: EmbeddedRedis;
  s3: EmbeddedS3;
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
  const redis = await startRedisServer({
    appendonly: opts.appendonly,
    dir: join(dir, 'redis'),
  }).catch(async (err) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    CAMFLOW_OUTPUT_BUCKET: 'camflow-outputs',
    CAMFLOW_MODEL_BUCKET: 'camflow-models',
    ...opts.env,
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
