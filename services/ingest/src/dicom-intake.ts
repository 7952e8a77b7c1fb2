/**
 * One received DICOM instance (DIMSE C-STORE or STOW-RS), start to finish: read its header,
 * validate its UIDs, store it as received in S3 (`dicom/<study>/<series>/<sop>.dcm`), route it
 * (CAMFLOW_DICOM_RULES, first match wins) and queue realtime explain jobs; instances that no
 * rule matches, and non-image objects, are stored and recorded as skipped with the reason.
 * Nothing here logs or returns patient data: only UIDs, codes and reasons.
 */
import {
  type DicomRule,
  dicomStorageKey,
  type ExplainSettings,
  InvalidUidError,
  KEY_PREFIX,
  matchDicomRule,
  type RunRecord,
} from '@camflow/contracts';
import { DicomError, parseDicom, readHeader } from '@camflow/dicom';
import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import type { Redis } from 'ioredis';
import { type ExplainQueueHandle, enqueueExplainJobs, pinnedSource } from './enqueue.js';
import type { IngestMetrics } from './metrics.js';
import { addListed, ensureRun } from './run-store.js';

export interface DicomIntakeDeps {
  redis: Redis;
  store: ObjectStore;
  realtime: ExplainQueueHandle;
  /** CAMFLOW_DICOM_BUCKET (default: the output bucket). */
  bucket: string;
  rules: DicomRule[];
  /** Recorded as the owner of DICOM runs. */
  owner: string;
  metrics?: IngestMetrics;
  logger?: Logger;
}

export interface IntakeContext {
  /** The sender's AE title (DIMSE), for rules with `callingAET`. */
  callingAET?: string;
  /** What the C-STORE command or the STOW-RS path says the instance is: must agree. */
  expect?: { sopInstanceUID?: string; sopClassUID?: string; studyInstanceUID?: string };
}

interface Known {
  sopInstanceUID?: string;
  sopClassUID?: string;
}

export type IntakeOutcome =
  | ({ status: 'queued'; key: string; runId: string; jobIds: string[] } & Known)
  | ({ status: 'skipped'; key: string; reason: string } & Known)
  | ({
      status: 'refused';
      /** invalid: the sender should not retry the same bytes; unavailable: S3/Redis, retry. */
      why: 'invalid' | 'unavailable';
      /** What exactly (STOW-RS answers a FailureReason per cause). */
      cause: RefusalCause;
      message: string;
    } & Known);

/**
 * Why an instance was refused: unreadable (not DICOM, truncated), uid (a UID breaks the grammar),
 * mismatch (the data set's SOP class or instance differs from the request's), study (it belongs
 * to another study than the request path names), storage (S3), queue (Redis).
 */
export type RefusalCause = 'unreadable' | 'uid' | 'mismatch' | 'study' | 'storage' | 'queue';

/** How long the per-instance record (status, reason, jobs) is kept in Redis. */
const RECORD_TTL_S = 7 * 24 * 3600;

/** The record of what happened to a received instance: `camflow:dicom:instance:<sop>`. */
export const dicomInstanceKey = (sopInstanceUID: string) =>
  `${KEY_PREFIX}:dicom:instance:${sopInstanceUID}`;

/** Receives one Part 10 instance. Never throws for bad input or outages: the outcome says. */
export async function receiveDicom(
  deps: DicomIntakeDeps,
  bytes: Uint8Array,
  ctx: IntakeContext = {},
): Promise<IntakeOutcome> {
  let header: ReturnType<typeof readHeader>;
  try {
    header = readHeader(parseDicom(bytes, 'x7fe00010'));
  } catch (err) {
    if (err instanceof DicomError) return refused('invalid', 'unreadable', err.message);
    throw err;
  }
  const known: Known = { sopInstanceUID: header.sopInstanceUID, sopClassUID: header.sopClassUID };
  const mismatch = disagreement(header, ctx);
  if (mismatch) return { ...refused('invalid', mismatch.cause, mismatch.message), ...known };
  let key: string;
  try {
    key = dicomStorageKey({
      studyInstanceUID: header.studyInstanceUID ?? '',
      seriesInstanceUID: header.seriesInstanceUID ?? '',
      sopInstanceUID: header.sopInstanceUID ?? '',
    });
  } catch (err) {
    if (err instanceof InvalidUidError) {
      return { ...refused('invalid', 'uid', err.message), ...known };
    }
    throw err;
  }
  const identity = {
    studyInstanceUID: header.studyInstanceUID!,
    seriesInstanceUID: header.seriesInstanceUID!,
    sopInstanceUID: header.sopInstanceUID!,
  };
  try {
    await deps.store.put(deps.bucket, key, bytes, 'application/dicom');
  } catch (err) {
    deps.logger?.warn({ key, err: (err as Error).message }, 'DICOM instance not stored');
    return {
      ...refused('unavailable', 'storage', 'the instance could not be stored (S3); retry later'),
      ...known,
    };
  }

  try {
    let outcome: IntakeOutcome;
    const rule = header.pixels
      ? matchDicomRule(deps.rules, {
          callingAET: ctx.callingAET,
          modality: header.modality,
          bodyPart: header.bodyPart,
          sopClass: header.sopClassUID,
        })
      : undefined;
    if (!header.pixels) {
      outcome = {
        status: 'skipped',
        key,
        reason: `not an image (SOP class ${header.sopClassUID ?? 'unknown'}, no pixel data)`,
        ...known,
      };
    } else if (!rule) {
      outcome = {
        status: 'skipped',
        key,
        reason: `no rule matches (calling AE ${ctx.callingAET ?? '-'}, modality ${header.modality ?? '-'}, body part ${header.bodyPart ?? '-'}, SOP class ${header.sopClassUID ?? '-'})`,
        ...known,
      };
    } else {
      const frames = rule.frames === 'each' ? header.pixels.frames : 1;
      const runId = await ensureDicomRun(deps, rule);
      const items = Array.from({ length: frames }, (_, frame) => ({ frame }));
      const jobIds: string[] = [];
      const info = await deps.store.head(deps.bucket, key);
      // One enqueue per frame: the frame is part of the settings (and so of the job id).
      for (const { frame } of items) {
        const settings = settingsOf(rule, frame);
        const source = {
          ...pinnedSource(deps.bucket, key, info?.etag, info?.versionId),
          dicom: identity,
        };
        const r = await enqueueExplainJobs(
          deps.redis,
          deps.realtime,
          runId,
          settings,
          [{ source }],
          deps.metrics,
        );
        jobIds.push(...r.jobIds);
      }
      await addListed(deps.redis, runId, jobIds.length);
      outcome = { status: 'queued', key, runId, jobIds, ...known };
    }
    await record(deps, identity.sopInstanceUID, outcome);
    deps.logger?.info(
      {
        sopInstanceUID: identity.sopInstanceUID,
        studyInstanceUID: identity.studyInstanceUID,
        status: outcome.status,
        ...(outcome.status === 'skipped' && { reason: outcome.reason }),
        ...(outcome.status === 'queued' && { runId: outcome.runId, jobs: outcome.jobIds.length }),
      },
      'DICOM instance received',
    );
    return outcome;
  } catch (err) {
    // Stored, but not queued (Redis): the sender retries, which re-stores and re-queues the same ids.
    deps.logger?.warn({ key, err: (err as Error).message }, 'DICOM instance stored but not queued');
    return {
      ...refused(
        'unavailable',
        'queue',
        'the instance was stored but could not be queued (Redis); retry later',
      ),
      ...known,
    };
  }
}

function refused(
  why: 'invalid' | 'unavailable',
  cause: RefusalCause,
  message: string,
): IntakeOutcome {
  return { status: 'refused', why, cause, message };
}

function disagreement(
  h: ReturnType<typeof readHeader>,
  ctx: IntakeContext,
): { cause: RefusalCause; message: string } | undefined {
  const e = ctx.expect;
  if (!e) return undefined;
  if (e.sopInstanceUID && h.sopInstanceUID !== e.sopInstanceUID) {
    return {
      cause: 'mismatch',
      message: 'the data set SOP Instance UID differs from the one the request names',
    };
  }
  if (e.sopClassUID && h.sopClassUID !== e.sopClassUID) {
    return {
      cause: 'mismatch',
      message: 'the data set SOP Class UID differs from the one the request names',
    };
  }
  if (e.studyInstanceUID && h.studyInstanceUID !== e.studyInstanceUID) {
    return {
      cause: 'study',
      message: 'the instance belongs to another study than the one in the request path',
    };
  }
  return undefined;
}

function settingsOf(rule: DicomRule, frame: number): ExplainSettings {
  const s: ExplainSettings = {
    model: rule.model,
    method: rule.method ?? 'gradcam',
    target: 'predicted',
    dicom: {
      ...(frame > 0 && { frame }),
      ...(rule.destination && { destination: rule.destination }),
    },
  };
  if (rule.layer) s.layer = rule.layer;
  if (rule.align) s.align = rule.align;
  return s;
}

/** The day's run of a rule: `dicom-<yyyymmdd>-r<n>` (n = the rule's position, from 1). */
async function ensureDicomRun(deps: DicomIntakeDeps, rule: DicomRule): Promise<string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const runId = `dicom-${day}-r${deps.rules.indexOf(rule) + 1}`;
  const record: RunRecord = {
    runId,
    kind: 'events',
    model: rule.model,
    layer: rule.layer,
    method: rule.method ?? 'gradcam',
    target: 'predicted',
    ...(rule.align && { align: rule.align }),
    priority: 'realtime',
    source: { bucket: deps.bucket, prefix: 'dicom/' },
    owner: deps.owner,
    createdAt: Date.now(),
    listingDone: true,
  };
  if (await ensureRun(deps.redis, record)) deps.metrics?.runsCreated.inc({ kind: 'events' });
  return runId;
}

async function record(deps: DicomIntakeDeps, sop: string, o: IntakeOutcome): Promise<void> {
  const fields: Record<string, string> = { status: o.status, at: String(Date.now()) };
  if (o.status !== 'refused') fields.key = o.key;
  if (o.status === 'skipped') fields.reason = o.reason;
  if (o.status === 'queued') {
    fields.runId = o.runId;
    fields.jobIds = o.jobIds.join(',');
  }
  await deps.redis
    .multi()
    .del(dicomInstanceKey(sop))
    .hset(dicomInstanceKey(sop), fields)
    .expire(dicomInstanceKey(sop), RECORD_TTL_S)
    .exec();
}
