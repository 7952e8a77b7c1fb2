import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { notFound } from '../http-errors.js';
import { gatherReport } from '../report/data.js';
import { renderReport } from '../report/page.js';
import { visibleRun } from '../store/queries.js';

/**
 * The page runs no script, posts no form, may not be framed, and loads nothing but images from
 * the object store (its presigned URLs) and inline data: a strict policy keeps anything that
 * slipped through escaping inert.
 */
export function pageCsp(imageOrigins: string[]): string {
  const img = [...new Set(imageOrigins)].join(' ');
  return `default-src 'none'; img-src ${img} data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/** The origins of presigned URLs in a page (where its images come from). */
export function originsOf(urls: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const u of urls) {
    if (!u) continue;
    try {
      out.add(new URL(u).origin);
    } catch {
      // not a URL: nothing to allow
    }
  }
  return out.size ? [...out] : ["'none'"];
}

/** `GET /v1/runs/:runId/report`: the run's audit and results as one HTML page. */
export function registerReportRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { runId: string }; Querystring: { limit?: number; link?: string } }>(
    '/v1/runs/:runId/report',
    {
      config: { linkable: true },
      schema: {
        summary:
          'HTML report: the audit (verdict, atlas, findings with examples), the run, labels, plots, gallery',
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
            link: {
              type: 'string',
              description: 'a signed read-only link (POST /v1/runs/:runId/links)',
            },
          },
        },
        produces: ['text/html'],
      },
    },
    async (req, reply) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound('run');
      const data = await gatherReport(ctx, run, req.principal, {
        galleryLimit: req.query.limit,
        link: req.principal.runs ? req.query.link : undefined,
      });
      const urls = [
        data.audit.atlasUrl as string | undefined,
        ...((data.audit.findings ?? []) as { exampleUrls?: string[] }[]).flatMap(
          (f) => f.exampleUrls ?? [],
        ),
        ...data.gallery.map((g) => g.overlayUrl),
      ];
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', pageCsp(originsOf(urls)))
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store');
      return renderReport(data);
    },
  );
}
