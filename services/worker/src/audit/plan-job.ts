/**
 * `audit-plan`: after a run completes, reads its results (compact CAMs, scores, labels) from the
 * Redis index into the audit's statistics, plans the occlusions, keeps the plan in S3 and queues
 * the work as a BullMQ flow: `audit-occlude` chunks (children) and `audit-finalize` (the parent,
 * run once every chunk has finished or failed for good).
 */
import { AuditCollector, planAudit } from '@camflow/audit';
import { type AuditImageTask, auditKeys, RETRY } from '@camflow/contracts';
import { setAuditState } from './audit-store.js';
import type { AuditDeps } from './deps.js';
import { completedEvents, runAuditImages } from './run-images.js';
import { loadRunRecord } from './run-record.js';

/** Images per `audit-occlude` job. */
export const CHUNK = 8;

export const finalizeJobId = (runId: string) => `audit-finalize-${runId}`;

export async function runAuditPlan(runId: string, deps: AuditDeps): Promise<{ chunks: number }> {
  const { redis, store, outputBucket } = deps;
  if (await deps.queue.getJob(finalizeJobId(runId))) return { chunks: -1 }; // planned before a retry
  const run = await loadRunRecord(redis, runId);
  await setAuditState(redis, runId, {
    status: 'running',
    stage: 'statistics',
    startedAt: Date.now(),
  });
  const model = await deps.models.get(run.model);
  const collector = new AuditCollector();
  let withoutCam = 0;
  for await (const page of runAuditImages(redis, runId, model.card)) {
    for (const img of page.images) collector.add(img);
    withoutCam += page.withoutCam;
  }
  const plan = planAudit(collector.result());
  await store.put(outputBucket, auditKeys(runId).plan, JSON.stringify(plan), 'application/json');

  const sources = await completedEvents(
    redis,
    plan.tasks.map((t) => t.id),
  );
  const tasks: AuditImageTask[] = [];
  for (const t of plan.tasks) {
    const e = sources.get(t.id);
    if (!e) continue; // its result disappeared since: the finalize job counts it as missing
    tasks.push({
      jobId: t.id,
      source: e.source,
      class: t.class,
      prob: t.prob,
      boxes: t.boxes,
      ...(t.faithfulness && { faithfulness: t.faithfulness }),
    });
  }
  const chunks: AuditImageTask[][] = [];
  for (let i = 0; i < tasks.length; i += CHUNK) chunks.push(tasks.slice(i, i + CHUNK));
  await setAuditState(redis, runId, {
    stage: 'occlusion',
    images: plan.images,
    withoutCam,
    candidates: plan.candidates.length,
    chunks: chunks.length,
    chunksDone: 0,
  });
  const queueName = deps.queue.name;
  await deps.flow.add({
    name: 'audit-finalize',
    queueName,
    data: { runId },
    opts: {
      jobId: finalizeJobId(runId),
      ...RETRY['audit-finalize'],
      removeOnComplete: { age: 7 * 24 * 3600 },
    },
    children: chunks.map((c, i) => ({
      name: 'audit-occlude',
      queueName,
      data: { runId, model: run.model, chunk: i, tasks: c },
      opts: {
        jobId: `audit-occlude-${runId}-${i}`,
        ...RETRY['audit-occlude'],
        // A chunk that fails for good is left out of the evidence, not the whole audit.
        ignoreDependencyOnFailure: true,
        removeOnComplete: { age: 24 * 3600 },
      },
    })),
  });
  deps.logger.info(
    { runId, images: plan.images, candidates: plan.candidates.length, chunks: chunks.length },
    'audit planned',
  );
  return { chunks: chunks.length };
}
