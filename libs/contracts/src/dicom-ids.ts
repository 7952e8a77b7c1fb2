import { z } from 'zod';
import { checkObjectKey } from './object-keys.js';

// UIDs and the DICOM part of jobs and results; depends on nothing but zod and the key policy
// (jobs.ts imports it).

/** PS3.5 9.1: components of digits without leading zeros, joined by dots, at most 64 chars. */
const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;

/** True when `s` is a valid DICOM UID. */
export function isDicomUid(s: string): boolean {
  return s.length <= 64 && UID.test(s);
}

export const dicomUidSchema = z
  .string()
  .refine(isDicomUid, 'not a DICOM UID (digits and dots, no leading zeros, at most 64 characters)');

/** The source instance's identity, kept in job results (`source.dicom`). Never PHI. */
export const dicomIdentitySchema = z
  .object({
    studyInstanceUID: dicomUidSchema,
    seriesInstanceUID: dicomUidSchema,
    sopInstanceUID: dicomUidSchema,
  })
  .strict();
export type DicomIdentity = z.infer<typeof dicomIdentitySchema>;

/** A received instance whose UIDs break the grammar: refused, never stored. */
export class InvalidUidError extends Error {
  override name = 'InvalidUidError';
  readonly permanent = true;
  readonly reason = 'invalid-uid';
}

/**
 * Where a received instance is stored: `dicom/<study>/<series>/<sop>.dcm`. Built only from UIDs
 * that pass the grammar (so no `..`, `/` or control character can reach the key) and then the
 * key policy; anything else throws InvalidUidError naming the attribute, not its value.
 */
export function dicomStorageKey(id: DicomIdentity): string {
  for (const [name, value] of Object.entries(id)) {
    if (typeof value !== 'string' || !isDicomUid(value)) {
      throw new InvalidUidError(
        `${name} is missing or not a valid DICOM UID (digits and dots, at most 64 characters)`,
      );
    }
  }
  const key = `dicom/${id.studyInstanceUID}/${id.seriesInstanceUID}/${id.sopInstanceUID}.dcm`;
  checkObjectKey(key);
  return key;
}

/** What an explain job carries when its source is a DICOM instance (part of the job id). */
export const dicomJobSchema = z
  .object({
    /** Frame to explain (0 when absent). */
    frame: z.number().int().min(0).optional(),
    /** A CAMFLOW_DICOM_DESTINATIONS name the Secondary Capture goes to. */
    destination: z.string().min(1).optional(),
  })
  .strict();
export type DicomJob = z.infer<typeof dicomJobSchema>;
