import { redisKeys } from '@camflow/contracts';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { HttpError, notFound } from '../http-errors.js';
import { auditPlanJobId, start } from '../indexer/audit-trigger.js';
import { auditView } from '../store/audit.js';
import { runCounts, visibleRun } from '../store/queries.js';
import { runState } from '../store/run-status.js';

const runIdParams = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** `GET /v1/runs/:runId/audit` (the document, or what is known so far) and `POST` (start it). */
export function registerAuditRoutes(app: FastifyInstance, ctx: RouteContext, bulk: Queue): void {
  app.get<{ Params: { runId: string } }>(
    '/v1/runs/:runId/audit',
    {
      config: { linkable: true },
      schema: {
        summary: "The run's data-set audit: verdict, findings, atlas, faithfulness, and its status",
        tags: ['runs'],
        params: runIdParams,
      },
    },
    async (req) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound(`run ${req.params.runId}`);
      return auditView(ctx.redis, ctx.store, run, ctx.overlayUrlExpirySeconds);
    },
  );

  app.post<{ Params: { runId: string } }>(
    '/v1/runs/:runId/audit',
    {
      config: { scope: 'runs:write' },
      schema: {
        summary: "Starts (or restarts, once it failed) a completed run's audit",
        tags: ['runs'],
        params: runIdParams,
      },
    },
    async (req, reply) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound(`run ${req.params.runId}`);
      if (runState(run, await runCounts(ctx.redis, run)) !== 'completed') {
        throw new HttpError(
          409,
          'conflict',
          `run ${req.params.runId} is not completed yet: its audit starts when it is`,
        );
      }
      const view = await auditView(ctx.redis, ctx.store, run, ctx.overlayUrlExpirySeconds);
      if (view.status === 'failed') {
        // A failed audit's jobs are kept for inspection until it is asked again.
        await ctx.redis.del(redisKeys.audit(req.params.runId));
        for (const id of [auditPlanJobId(req.params.runId), `audit-finalize-${req.params.runId}`])
          await bulk.remove(id, { removeChildren: true }).catch(() => {});
      } else if (view.status !== 'pending' || view.requested === true) {
        return reply.code(200).send(view);
      }
      await start(ctx.redis, bulk, req.params.runId);
      return reply.code(202).send({ status: 'pending', runId: req.params.runId });
    },
  );
}
