import {
  canUseBucket,
  createJobRequestSchema,
  type ExplainSettings,
  type RunRecord,
} from '@camflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import { enqueueExplainJobs, pinnedSource } from '../enqueue.js';
import { HttpError, parseBody } from '../http-error.js';
import { newRunId } from '../run-ids.js';
import { createRun } from '../run-store.js';
import type { Guards } from './guards.js';
import { checkModel } from './model-check.js';

/** `POST /v1/jobs`: one image on the realtime queue, as a run of kind 'job'. */
export function registerJobRoutes(app: FastifyInstance, deps: IngestDeps, guards: Guards): void {
  app.post('/v1/jobs', { preHandler: guards.write('runs:write') }, async (req, reply) => {
    const body = parseBody(createJobRequestSchema, req.body);
    const principal = req.principal!;
    const { bucket, key } = body.source;
    if (!canUseBucket(principal, bucket)) {
      throw new HttpError(403, 'forbidden', `this token may not read bucket ${bucket}`);
    }
    const targets = await checkModel(deps.models, body);
    // The ETag pins the content into the job id (a changed image is explained again).
    const info = await deps.store.head(bucket, key);
    if (!info) throw new HttpError(404, 'not_found', `no object s3://${bucket}/${key}`);
    const settings: ExplainSettings = {
      model: body.model,
      method: body.method ?? 'gradcam',
      target: body.target ?? 'predicted',
    };
    if (body.layer) settings.layer = body.layer;
    if (body.align) settings.align = body.align;
    if (targets !== undefined) settings.targets = targets;
    const record: RunRecord = {
      runId: newRunId('job'),
      kind: 'job',
      model: body.model,
      layer: body.layer,
      method: settings.method,
      target: settings.target,
      ...(settings.align && { align: settings.align }),
      ...(targets !== undefined && { targets }),
      priority: 'realtime',
      source: { bucket, keys: [key] },
      owner: principal.id,
      createdAt: Date.now(),
      listingDone: true,
    };
    await createRun(deps.redis, record, 1);
    const { jobIds } = await enqueueExplainJobs(
      deps.redis,
      deps.queues.realtime,
      record.runId,
      settings,
      [{ source: pinnedSource(bucket, key, info.etag, info.versionId) }],
      deps.metrics,
    );
    deps.metrics.runsCreated.inc({ kind: 'job' });
    return reply.code(202).send({ runId: record.runId, jobId: jobIds[0] });
  });
}
