import { type Principal, QUEUES } from '@camflow/contracts';
import type { ProbeResult } from '@camflow/telemetry';
import swagger from '@fastify/swagger';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { registerAuth } from './auth.js';
import type { RouteContext } from './context.js';
import { HttpError } from './http-errors.js';
import type { ResultsMetrics } from './metrics.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerBullBoard } from './routes/bull-board.js';
import { registerCompareRoute } from './routes/compare.js';
import { registerEventRoutes, type SseHub } from './routes/events-sse.js';
import { registerOpsRoutes } from './routes/health.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerLinkRoutes } from './routes/links.js';
import { registerReportRoute } from './routes/report.js';
import { registerRunRoutes } from './routes/runs.js';

/** What the HTTP app is built from. */
export interface AppDeps {
  ctx: RouteContext;
  tokens: Map<string, Principal>;
  metrics: ResultsMetrics;
  queues: Queue[];
  hub: SseHub;
  /** Readiness (routes/health.ts, readiness.ts). */
  ready: () => Promise<ProbeResult>;
}

/** Builds the results API's fastify app (routes, auth, errors, OpenAPI, Bull Board). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ctx } = deps;
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Request logs carry method and URL (cursors, never secrets); headers are not logged.
    routerOptions: { maxParamLength: 500 },
  });

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'bad-request', message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({
      error: status >= 500 ? 'internal' : (err.code ?? 'error'),
      message: status >= 500 ? 'internal error' : err.message,
    });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: 'not-found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'camflow results API',
        version: '1',
        description:
          'Run progress, results, reports and live events of camflow Grad-CAM runs. Every route ' +
          'but /healthz needs `Authorization: Bearer <token>` (scope results:read; admin for ' +
          '/admin/queues). Runs a token may not see answer 404, like runs that do not exist.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });
  registerAuth(app, deps.tokens, ctx.linkKey);
  registerOpsRoutes(app, deps.metrics, deps.ready);
  registerRunRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerReportRoute(app, ctx);
  registerLinkRoutes(app, ctx);
  registerCompareRoute(app, ctx);
  registerAuditRoutes(app, ctx, deps.queues.find((q) => q.name === QUEUES.bulk) as Queue);
  registerEventRoutes(app, deps.hub, ctx.logger);
  await registerBullBoard(app, deps.queues);
  // Open SSE streams would hold server.close() forever.
  app.addHook('preClose', async () => deps.hub.close());
  return app;
}
