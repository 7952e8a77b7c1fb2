import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { ResultsMetrics } from '../metrics.js';

/** `/healthz` (public: the process answers), `/readyz` (Redis answers), `/metrics`, `/openapi.json`. */
export function registerOpsRoutes(
  app: FastifyInstance,
  redis: Redis,
  metrics: ResultsMetrics,
): void {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness', tags: ['ops'] } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: Redis answers PING', tags: ['ops'] } },
    async (_req, reply) => {
      const ok = await Promise.race([
        redis.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
      ]);
      if (!ok) reply.code(503);
      return ok ? { ok: true } : { error: 'not-ready', message: 'Redis does not answer' };
    },
  );
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'] } },
    async (_req, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
  app.get(
    '/openapi.json',
    { schema: { summary: 'This API as OpenAPI 3', tags: ['ops'] } },
    async () => app.swagger(),
  );
}
