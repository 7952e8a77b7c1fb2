import type { ProbeResult } from '@camflow/telemetry';
import type { FastifyInstance } from 'fastify';
import type { ResultsMetrics } from '../metrics.js';

/**
 * `/healthz` (public: the process answers), `/readyz` (Redis and S3 answer; any token),
 * `/metrics`, `/openapi.json`. `/healthz`, `/readyz` and `/metrics` are also served without a
 * token on the internal METRICS_PORT listener, for probes and Prometheus.
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  metrics: ResultsMetrics,
  ready: () => Promise<ProbeResult>,
): void {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness', tags: ['ops'] } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: Redis answers PING and S3 a HEAD', tags: ['ops'] } },
    async (_req, reply) => {
      const r = await ready();
      if (!r.ok) reply.code(503);
      return r.body;
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
