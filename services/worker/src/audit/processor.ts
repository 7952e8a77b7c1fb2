/**
 * Runs the audit jobs that share the bulk queue with explain jobs (`audit-plan`,
 * `audit-occlude`, `audit-finalize`): payloads validated when taken off the queue, permanent
 * faults end the audit as failed at once, transient ones retry with the queue's backoff.
 */
import {
  auditOccludeJobSchema,
  auditRunJobSchema,
  classifyError,
  PermanentError,
} from '@camflow/contracts';
import type { Logger } from '@camflow/telemetry';
import { type Job, UnrecoverableError } from 'bullmq';
import { setAuditState } from './audit-store.js';
import type { AuditDeps } from './deps.js';
import { runAuditFinalize } from './finalize-job.js';
import { runAuditOcclude } from './occlude-job.js';
import { runAuditPlan } from './plan-job.js';

export const AUDIT_JOB_NAMES = ['audit-plan', 'audit-occlude', 'audit-finalize'] as const;

export function isAuditJob(name: string): boolean {
  return (AUDIT_JOB_NAMES as readonly string[]).includes(name);
}

export async function processAuditJob(job: Job, deps: AuditDeps, log: Logger): Promise<unknown> {
  const runId = (job.data as { runId?: unknown })?.runId;
  try {
    switch (job.name) {
      case 'audit-plan':
        return await runAuditPlan(parse(auditRunJobSchema, job.data).runId, deps);
      case 'audit-occlude':
        return await runAuditOcclude(parse(auditOccludeJobSchema, job.data), deps);
      case 'audit-finalize': {
        const doc = await runAuditFinalize(parse(auditRunJobSchema, job.data).runId, job, deps);
        return { verdict: doc.verdict, findings: doc.findings.length };
      }
      default:
        throw new PermanentError('unknown-job', `no handler for job "${job.name}"`);
    }
  } catch (err) {
    const e = classifyError(err);
    const final = e instanceof PermanentError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    log.warn(
      { job: job.name, reason: e.reason, err: e.message, final },
      'audit job attempt failed',
    );
    // A failed occlusion chunk only thins the evidence (the finalize job goes on without it).
    if (final && typeof runId === 'string' && job.name !== 'audit-occlude') {
      await setAuditState(deps.redis, runId, {
        status: 'failed',
        error: `${e.reason}: ${e.message}`,
        finishedAt: Date.now(),
      });
    }
    if (e instanceof PermanentError) throw new UnrecoverableError(`${e.reason}: ${e.message}`);
    throw err;
  }
}

function parse<T>(
  schema: {
    safeParse(
      d: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } };
  },
  data: unknown,
): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PermanentError(
    'invalid-payload',
    `invalid audit job payload: ${issue.path.join('.') || '(payload)'}: ${issue.message}`,
  );
}
