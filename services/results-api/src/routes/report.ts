import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { notFound } from '../http-errors.js';
import { gatherReport } from '../report/data.js';
import { renderReport } from '../report/page.js';
import { visibleRun } from '../store/queries.js';

/**
 * The page runs no script and loads nothing but overlay images, so a strict policy costs
 * nothing and keeps anything that slipped through escaping inert.
 */
const CSP = "default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'";

/** `GET /v1/runs/:runId/report`: a self-contained HTML report of a run. */
export function registerReportRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { runId: string }; Querystring: { limit?: number } }>(
    '/v1/runs/:runId/report',
    {
      schema: {
        summary: 'HTML report: summary, plots, evaluation against labels, gallery (flagged first)',
        tags: ['runs'],
        params: {
          type: 'object',
          required: ['runId'],
          properties: { runId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 0, maximum: 5000, description: 'gallery size' },
          },
        },
        produces: ['text/html'],
      },
    },
    async (req, reply) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound('run');
      const data = await gatherReport(ctx, run, { galleryLimit: req.query.limit });
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CSP)
        .header('cache-control', 'no-store');
      return renderReport(data);
    },
  );
}
