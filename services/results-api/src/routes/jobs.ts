import { isSafeId } from '@camflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { notFound } from '../http-errors.js';
import { overlayUrls } from '../store/presign.js';
import { jobRunIds, loadResult, visibleRun } from '../store/queries.js';
import { resultView } from '../store/result-view.js';

/** `GET /v1/jobs/:jobId`: a job's result, if the token may see a run that contains it. */
export function registerJobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { jobId: string } }>(
    '/v1/jobs/:jobId',
    {
      schema: {
        summary: "A job's result (status pending until it has one)",
        tags: ['jobs'],
        params: {
          type: 'object',
          required: ['jobId'],
          properties: { jobId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (req) => {
      const { jobId } = req.params;
      if (!isSafeId(jobId)) throw notFound('job');
      const event = await loadResult(ctx.redis, jobId);
      const runIds = await jobRunIds(ctx.redis, jobId, event);
      let visible: string[] = [];
      for (const id of runIds) {
        if (await visibleRun(ctx.redis, req.principal, id)) visible = [...visible, id];
      }
      if (visible.length === 0) throw notFound('job');
      if (!event) return { jobId, status: 'pending', runIds: visible };
      const [url] = await overlayUrls(ctx.store, [event], ctx.overlayUrlExpirySeconds);
      return { ...resultView(event, url), runIds: visible };
    },
  );
}
