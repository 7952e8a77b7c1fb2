import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { badRequest, notFound } from '../http-errors.js';
import { LINK_DEFAULT_SECONDS, LINK_MAX_SECONDS, signLink } from '../links.js';
import { visibleRun } from '../store/queries.js';

/**
 * `POST /v1/runs/:runId/links {"expiresIn"?: s, "runs"?: [ids]}`: a read-only browser link to
 * the run's report (and its audit and compare pages), valid for the run and any other runs named
 * that the caller may see; at most 7 days.
 */
export function registerLinkRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{
    Params: { runId: string };
    Body: { expiresIn?: number; runs?: string[] } | undefined;
  }>(
    '/v1/runs/:runId/links',
    {
      schema: {
        summary:
          "A signed, read-only browser link to the run's report (no Authorization header needed)",
        tags: ['runs'],
        params: {
          type: 'object',
          required: ['runId'],
          properties: { runId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            expiresIn: { type: 'integer', minimum: 60, maximum: LINK_MAX_SECONDS },
            runs: {
              type: 'array',
              items: { type: 'string', minLength: 1, maxLength: 200 },
              maxItems: 16,
            },
          },
        },
      },
    },
    async (req, reply) => {
      const ids = [req.params.runId, ...(req.body?.runs ?? [])];
      for (const id of ids) {
        if (!(await visibleRun(ctx.redis, req.principal, id))) throw notFound(`run ${id}`);
      }
      if (req.principal.runs) throw badRequest('a link cannot make links');
      const seconds = req.body?.expiresIn ?? LINK_DEFAULT_SECONDS;
      const exp = Math.floor(Date.now() / 1000) + seconds;
      const link = signLink(ctx.linkKey, { runs: [...new Set(ids)], exp });
      const path = `/v1/runs/${encodeURIComponent(req.params.runId)}/report?link=${encodeURIComponent(link)}`;
      return reply.code(201).send({
        path,
        url: `${req.protocol}://${req.host}${path}`,
        link,
        expiresAt: new Date(exp * 1000).toISOString(),
      });
    },
  );
}
