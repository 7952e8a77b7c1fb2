// With a Docker engine, integration tests use testcontainers (Redis and MinIO); without one
// (this project's machines), local redis-server and s3rver processes. CAMFLOW_TESTCONTAINERS=0
// forces the local path, =1 insists on containers.
import { spawnSync } from 'node:child_process';

/** Whether a Docker engine answers (not just the client binary). */
export function dockerEngineAvailable(): boolean {
  const flag = process.env.CAMFLOW_TESTCONTAINERS;
  if (flag === '0') return false;
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    timeout: 5000,
    encoding: 'utf8',
  });
  const ok = r.status === 0 && r.stdout.trim().length > 0;
  if (!ok && flag === '1') throw new Error('CAMFLOW_TESTCONTAINERS=1 but no Docker engine answers');
  return ok;
}

export interface ContainerServices {
  redisUrl: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/** Redis 7 (noeviction) and MinIO containers. */
export async function startContainers(): Promise<ContainerServices> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const { MinioContainer } = await import('@testcontainers/minio');
  const redis = await new RedisContainer('redis:7-alpine')
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
    .start();
  try {
    const minio = await new MinioContainer('minio/minio:latest').start();
    return {
      redisUrl: redis.getConnectionUrl(),
      s3: {
        endpoint: minio.getConnectionUrl(),
        accessKeyId: minio.getUsername(),
        secretAccessKey: minio.getPassword(),
      },
      close: async () => {
        await minio.stop();
        await redis.stop();
      },
    };
  } catch (err) {
    await redis.stop();
    throw err;
  }
}
