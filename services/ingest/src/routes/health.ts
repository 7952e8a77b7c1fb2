import { dependencyState, type ProbeResult } from '@camflow/telemetry';
import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import type { Guards } from './guards.js';

/**
 * Readiness: Redis answers PING and S3 answers a HEAD in the model bucket (any answer, 404
 * included, proves S3 is reachable and the credentials are accepted); never while closing. The
 * body says ok/down per dependency; the reason goes to the log, not to the caller.
 */
export function ingestReadiness(
  deps: IngestDeps,
  closing: () => boolean,
): () => Promise<ProbeResult> {
  const logDown = (dependency: string) => (err: unknown) =>
    deps.logger?.warn({ dependency, err: String(err).split('\n')[0] }, 'readiness check failed');
  return async () => {
    if (closing()) return { ok: false, body: { status: 'closing' } };
    const [redis, s3] = await Promise.all([
      dependencyState(() => deps.redis.ping(), logDown('redis')),
      dependencyState(() => deps.store.head(deps.modelBucket, 'models/.readyz'), logDown('s3')),
    ]);
    const checks = { redis, s3 };
    return redis === 'ok' && s3 === 'ok'
      ? { ok: true, body: { status: 'ok', checks } }
      : { ok: false, body: { error: 'not_ready', message: 'a dependency is down', checks } };
  };
}

/**
 * `/healthz` (liveness, no auth), `/readyz` (readiness, any token), `/metrics` (any token). The
 * same without a token on the internal METRICS_PORT listener (ops-server), for probes and
 * Prometheus.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  deps: IngestDeps,
  guards: Guards,
  ready: () => Promise<ProbeResult>,
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', { preHandler: guards.read }, async (_req, reply) => {
    const r = await ready();
    return reply.code(r.ok ? 200 : 503).send(r.body);
  });

  app.get('/metrics', { preHandler: guards.read }, async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
