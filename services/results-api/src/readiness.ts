import type { ObjectStore } from '@camflow/storage';
import { dependencyState, type Logger, type ProbeResult } from '@camflow/telemetry';
import type { Redis } from 'ioredis';

/**
 * Readiness of the results API: Redis answers PING and S3 answers a HEAD in the output bucket
 * (any answer, 404 included: reachable, credentials accepted), and it is not closing. The body
 * says ok/down per dependency; why goes to the log.
 */
export function resultsReadiness(
  redis: Redis,
  store: ObjectStore,
  outputBucket: string,
  logger: Logger,
  closing: () => boolean,
): () => Promise<ProbeResult> {
  const logDown = (dependency: string) => (err: unknown) =>
    logger.warn({ dependency, err: String(err).split('\n')[0] }, 'readiness check failed');
  return async () => {
    if (closing()) return { ok: false, body: { error: 'not-ready', message: 'shutting down' } };
    const [redisState, s3] = await Promise.all([
      dependencyState(() => redis.ping(), logDown('redis')),
      dependencyState(() => store.head(outputBucket, '.readyz'), logDown('s3')),
    ]);
    const checks = { redis: redisState, s3 };
    if (redisState === 'ok' && s3 === 'ok') return { ok: true, body: { ok: true } };
    return {
      ok: false,
      body: { error: 'not-ready', message: 'Redis or S3 does not answer', checks },
    };
  };
}
