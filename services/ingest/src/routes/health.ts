import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import type { Guards } from './guards.js';

const READY_TIMEOUT_MS = 2000;

/** `/healthz` (liveness, no auth), `/readyz` (Redis and S3 answer), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, deps: IngestDeps, guards: Guards): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', { preHandler: guards.read }, async (_req, reply) => {
    const [redis, s3] = await Promise.all([
      check(() => deps.redis.ping()),
      // Any answer, 404 included, proves S3 is reachable and our credentials are accepted.
      check(() => deps.store.head(deps.modelBucket, 'models/.readyz')),
    ]);
    const checks = { redis, s3 };
    if (redis === 'ok' && s3 === 'ok') return { status: 'ok', checks };
    return reply.code(503).send({ error: 'not_ready', message: 'a dependency is down', checks });
  });

  app.get('/metrics', { preHandler: guards.read }, async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  } finally {
    clearTimeout(timer);
  }
}
