import { canUseBucket, createRunRequestSchema, RETRY, type RunRecord } from '@camflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import { HttpError, parseBody } from '../http-error.js';
import { newRunId } from '../run-ids.js';
import { createRun, deleteRun } from '../run-store.js';
import { recordLabels } from '../runs/folder-labels.js';
import { claimKey, idempotencyKey } from '../runs/idempotency.js';
import type { Guards } from './guards.js';
import { checkModel } from './model-check.js';

/** Options of a run's expansion job: resumable retries; kept a while for inspection. */
export const EXPAND_JOB_OPTS = {
  ...RETRY['expand-run'],
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * `POST /v1/runs`: records the run and queues its expansion; answers `202 {runId}` at once (`200
 * {runId, existing: true}` when its Idempotency-Key already names a run).
 */
export function registerRunRoutes(app: FastifyInstance, deps: IngestDeps, guards: Guards): void {
  app.post('/v1/runs', { preHandler: guards.write('runs:write') }, async (req, reply) => {
    const body = parseBody(createRunRequestSchema, req.body);
    const principal = req.principal!;
    if (!canUseBucket(principal, body.source.bucket)) {
      throw new HttpError(403, 'forbidden', `this token may not read bucket ${body.source.bucket}`);
    }
    const targets = await checkModel(deps.models, body);
    const labels = await recordLabels(deps, body);
    const runId = newRunId('run');
    const key = idempotencyKey(req.headers['idempotency-key']);
    const claim = key ? await claimKey(deps.redis, principal.id, key, body, runId) : undefined;
    if (claim?.existing) return reply.code(200).send({ runId: claim.existing, existing: true });
    const record: RunRecord = {
      runId,
      kind: 'run',
      model: body.model,
      layer: body.layer,
      method: body.method ?? 'gradcam',
      target: body.target ?? 'predicted',
      ...(body.align && { align: body.align }),
      ...(targets !== undefined && { targets }),
      priority: body.priority ?? 'bulk',
      ...(body.audit !== undefined && { audit: body.audit }),
      ...(labels && { labels }),
      source: body.source,
      owner: principal.id,
      createdAt: Date.now(),
      listingDone: false,
    };
    await createRun(deps.redis, record).catch(async (err) => {
      await claim?.release();
      throw err;
    });
    try {
      await deps.queues.runs.add(
        'expand-run',
        { runId: record.runId },
        { ...EXPAND_JOB_OPTS, jobId: record.runId },
      );
    } catch (err) {
      // Without its expansion job the run would wait forever: take it back.
      await deleteRun(deps.redis, record.runId).catch(() => {});
      await claim?.release().catch(() => {});
      throw err;
    }
    deps.metrics.runsCreated.inc({ kind: 'run' });
    deps.logger?.info({ runId: record.runId, model: record.model }, 'run created');
    return reply.code(202).send({ runId: record.runId });
  });
}
