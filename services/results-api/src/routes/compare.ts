import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { badRequest, notFound } from '../http-errors.js';
import { compareSummary, gatherCompare } from '../report/compare-data.js';
import { renderCompare } from '../report/compare-page.js';
import { originsOf, pageCsp } from './report.js';

/** `GET /v1/compare?runs=a,b[,...]`: runs over the same images side by side (HTML). */
export function registerCompareRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { runs: string; link?: string } }>(
    '/v1/compare',
    {
      config: { linkable: true },
      schema: {
        summary:
          'Two or more runs side by side: verdicts, atlases, accuracy, where their CAM peaks disagree',
        tags: ['runs'],
        querystring: {
          type: 'object',
          required: ['runs'],
          properties: { runs: { type: 'string', maxLength: 1000 }, link: { type: 'string' } },
        },
        produces: ['text/html'],
      },
    },
    async (req, reply) => {
      const ids = [
        ...new Set(
          req.query.runs
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ];
      if (ids.length < 2 || ids.length > 4)
        throw badRequest('runs: give 2 to 4 run ids, comma-separated');
      const data = await gatherCompare(
        ctx,
        req.principal,
        ids,
        req.principal.runs ? req.query.link : undefined,
      );
      if ('missing' in data) throw notFound(`run ${data.missing}`);
      if (req.headers.accept?.includes('application/json')) return compareSummary(data);
      const urls = [
        ...data.runs.map((r) => r.audit.atlasUrl as string | undefined),
        ...data.examples.flatMap((e) => e.overlayUrls),
      ];
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', pageCsp(originsOf(urls)))
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store');
      return renderCompare(data);
    },
  );
}
