/**
 * `audit-finalize`: runs once every occlusion chunk has finished (or failed for good): gathers
 * their measurements, decides the findings and the verdict, draws the pictures and stores the
 * document (S3 and the Redis state the results API serves).
 */
import { type AuditPlan, auditClassNames, finalizeAudit } from '@camflow/audit';
import { type AuditDocument, auditKeys } from '@camflow/contracts';
import type { Job } from 'bullmq';
import { renderAuditArtifacts } from './artifacts.js';
import { saveAuditDoc, setAuditState } from './audit-store.js';
import type { AuditDeps } from './deps.js';
import type { OccludeOutput } from './occlude-job.js';
import { loadRunRecord } from './run-record.js';

export async function runAuditFinalize(
  runId: string,
  job: Job,
  deps: AuditDeps,
): Promise<AuditDocument> {
  const run = await loadRunRecord(deps.redis, runId);
  const { card } = await deps.models.get(run.model);
  await setAuditState(deps.redis, runId, { stage: 'verdict' });
  const keys = auditKeys(runId);
  const plan = JSON.parse(
    Buffer.from((await deps.store.get(deps.outputBucket, keys.plan)).body).toString('utf8'),
  ) as AuditPlan;
  const values = Object.values(await job.getChildrenValues<OccludeOutput>());
  const failedChunks = Object.keys(await job.getIgnoredChildrenFailures()).length;
  const results = values.flatMap((v) => v?.results ?? []);
  const missing = values.flatMap((v) => v?.missing ?? []);
  const doc = finalizeAudit(plan, results, {
    name: run.model,
    classNames: auditClassNames(card.output.classes.length, card.output.classes),
    layer: run.layer ?? card.layer,
    method: run.method,
  });
  doc.runId = runId;
  doc.incomplete = { chunksFailed: failedChunks, imagesMissing: missing.length };
  const typical = plan.tasks.filter((t) => t.class === doc.atlasClass).map((t) => t.id);
  doc.artifacts = await renderAuditArtifacts(runId, doc, typical, card, deps);
  await deps.store.put(deps.outputBucket, keys.doc, JSON.stringify(doc), 'application/json');
  await saveAuditDoc(deps.redis, runId, doc);
  deps.logger.info({ runId, verdict: doc.verdict, findings: doc.findings.length }, 'audit done');
  return doc;
}
