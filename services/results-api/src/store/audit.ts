/**
 * A run's audit as the API shows it: the worker's document once done (with presigned URLs for
 * its pictures), else what is known so far and the stage it is in.
 */
import {
  AUDIT_MIN_IMAGES,
  type AuditDocument,
  type AuditStatus,
  type Finding,
  redisKeys,
} from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';
import type { Redis } from 'ioredis';
import { runCounts } from './queries.js';
import { runState } from './run-status.js';
import type { StoredRun } from './stored-run.js';

export interface AuditView extends Record<string, unknown> {
  status: AuditStatus;
  runId: string;
  model: string;
  images: number;
  verdict: AuditDocument['verdict'] | null;
}

interface Artifacts {
  bucket: string;
  atlas?: string;
  findings?: string[][];
}

export async function auditView(
  redis: Redis,
  store: ObjectStore,
  run: StoredRun,
  urlExpirySeconds: number,
): Promise<AuditView> {
  const runId = run.record.runId;
  const state = await redis.hgetall(redisKeys.audit(runId));
  if (state.doc) {
    const doc = JSON.parse(state.doc) as AuditDocument & { artifacts?: Artifacts };
    return {
      ...doc,
      ...(await presignArtifacts(store, doc, urlExpirySeconds)),
      status: 'done',
      runId,
      verdict: doc.verdict,
    };
  }
  const counts = await runCounts(redis, run);
  const status = (state.status as AuditStatus | undefined) ?? 'pending';
  const complete = runState(run, counts) === 'completed';
  const requested = state.status !== undefined;
  const known = {
    status,
    runId,
    model: run.record.model,
    images: counts.completed + counts.failed,
    verdict: null,
    findings: [],
    stage: state.stage ?? (complete ? 'not started' : 'waiting for the run'),
    ...(state.chunks && {
      progress: { chunks: Number(state.chunks), done: Number(state.chunksDone ?? 0) },
    }),
    ...(state.error && { error: state.error }),
  };
  if (!requested && complete) {
    const why =
      run.record.audit === false
        ? 'the run asked for no audit'
        : run.record.kind !== 'run'
          ? 'runs of bucket events and single jobs are not audited automatically'
          : `the run has fewer than ${AUDIT_MIN_IMAGES} images`;
    return {
      ...known,
      requested: false,
      message: `not audited: ${why}; POST /v1/runs/${runId}/audit starts it`,
    };
  }
  return { ...known, requested: requested || run.record.audit !== false };
}

async function presignArtifacts(
  store: ObjectStore,
  doc: AuditDocument & { artifacts?: Artifacts },
  expires: number,
) {
  const a = doc.artifacts;
  if (!a) return {};
  const url = (key: string) => store.presign(a.bucket, key, expires).catch(() => undefined);
  return {
    atlasUrl: a.atlas ? await url(a.atlas) : undefined,
    findings: await Promise.all(
      doc.findings.map(async (f, k) => ({
        ...f,
        exampleUrls: (await Promise.all((a.findings?.[k] ?? []).map(url))).filter(
          (u): u is string => !!u,
        ),
      })),
    ),
  };
}

/** The findings of a run's finished audit (none while it runs, or without one). */
export async function auditFindings(redis: Redis, runId: string): Promise<Finding[] | undefined> {
  const raw = await redis.hget(redisKeys.audit(runId), 'doc');
  return raw ? (JSON.parse(raw) as AuditDocument).findings : undefined;
}
