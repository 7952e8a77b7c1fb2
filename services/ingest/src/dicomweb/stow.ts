/**
 * STOW-RS (PS3.18 10.5): the instances of one request through the DICOM intake, one after the
 * other, and the Store Instances Response (PS3.18 Annex I) in DICOM JSON: ReferencedSOPSequence
 * for each stored instance (queued or skipped by the rules: both are kept), FailedSOPSequence
 * with a FailureReason for each refused one, and the HTTP status of the whole.
 */
import { DicomError, parseDicom, readHeader } from '@camflow/dicom';
import { type DicomIntakeDeps, type IntakeOutcome, receiveDicom } from '../dicom-intake.js';
import type { Part } from './multipart.js';

/** FailureReason values (PS3.18 Table I.2-2; A901 as other archives use it for a study mismatch). */
export const FAILURE_REASON = {
  outOfResources: 0xa700,
  doesNotMatch: 0xa900,
  otherStudy: 0xa901,
  cannotUnderstand: 0xc000,
} as const;

/** What happened to one part of the request. */
export interface PartResult {
  sopClassUID?: string;
  sopInstanceUID?: string;
  outcome: IntakeOutcome;
}

/** Runs each part through the intake; a part that is not application/dicom is refused as such. */
export async function storeParts(
  deps: DicomIntakeDeps,
  parts: Part[],
  studyInstanceUID: string | undefined,
): Promise<PartResult[]> {
  const results: PartResult[] = [];
  for (const [i, part] of parts.entries()) {
    const type = (part.headers['content-type'] ?? 'application/dicom').split(';')[0].trim();
    if (type.toLowerCase() !== 'application/dicom') {
      results.push({
        ...uidsOf(part.body),
        outcome: {
          status: 'refused',
          why: 'invalid',
          cause: 'unreadable',
          message: `part ${i + 1} is ${type}, not application/dicom`,
        },
      });
      continue;
    }
    const bytes = new Uint8Array(part.body.buffer, part.body.byteOffset, part.body.byteLength);
    const outcome = await receiveDicom(deps, bytes, {
      ...(studyInstanceUID && { expect: { studyInstanceUID } }),
    });
    results.push({
      sopClassUID: outcome.sopClassUID,
      sopInstanceUID: outcome.sopInstanceUID,
      outcome,
    });
  }
  return results;
}

/** A part's SOP UIDs when it happens to be readable DICOM (for the failure item). */
function uidsOf(body: Buffer): { sopClassUID?: string; sopInstanceUID?: string } {
  try {
    const h = readHeader(
      parseDicom(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 'x7fe00010'),
    );
    return { sopClassUID: h.sopClassUID, sopInstanceUID: h.sopInstanceUID };
  } catch (err) {
    if (err instanceof DicomError) return {};
    throw err;
  }
}

/** The FailureReason of a refused instance. */
export function failureReason(o: Extract<IntakeOutcome, { status: 'refused' }>): number {
  switch (o.cause) {
    case 'storage':
    case 'queue':
      return FAILURE_REASON.outOfResources;
    case 'mismatch':
      return FAILURE_REASON.doesNotMatch;
    case 'study':
      return FAILURE_REASON.otherStudy;
    default:
      return FAILURE_REASON.cannotUnderstand;
  }
}

type JsonAttr = { vr: string; Value?: unknown[] };

/**
 * The Store Instances Response: 200 when every instance was stored, 202 when some were, 409
 * when none was for reasons of the instances themselves, 503 (retry) when none was and S3 or
 * Redis was the reason for at least one.
 */
export function stowResponse(results: PartResult[]): {
  status: number;
  body: Record<string, JsonAttr>;
} {
  const ref = (r: PartResult): Record<string, JsonAttr> => ({
    ...(r.sopClassUID && { '00081150': { vr: 'UI', Value: [r.sopClassUID] } }),
    ...(r.sopInstanceUID && { '00081155': { vr: 'UI', Value: [r.sopInstanceUID] } }),
  });
  const stored = results.filter((r) => r.outcome.status !== 'refused');
  const failed = results.flatMap((r) =>
    r.outcome.status === 'refused' ? [{ r, outcome: r.outcome }] : [],
  );
  const body: Record<string, JsonAttr> = {};
  if (failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: failed.map(({ r, outcome }) => ({
        ...ref(r),
        '00081197': { vr: 'US', Value: [failureReason(outcome)] },
      })),
    };
  }
  if (stored.length > 0) body['00081199'] = { vr: 'SQ', Value: stored.map(ref) };
  let status = 200;
  if (failed.length > 0 && stored.length > 0) status = 202;
  else if (failed.length > 0) {
    status = failed.some(({ outcome }) => outcome.why === 'unavailable') ? 503 : 409;
  }
  return { status, body };
}
