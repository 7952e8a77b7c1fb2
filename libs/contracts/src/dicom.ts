import { z } from 'zod';
import { dicomUidSchema } from './dicom-ids.js';
import { camAlignSchema, camMethodSchema } from './jobs.js';
import { modelRefSchema } from './model-ref.js';

/**
 * DICOM contracts (ARCHITECTURE.md, "Added 2026-12-03"): UIDs, where received instances are
 * stored, routing rules (`CAMFLOW_DICOM_RULES`), destinations (`CAMFLOW_DICOM_DESTINATIONS`),
 * and what an explain job and its result carry about DICOM.
 */

/** DICOM AE titles: 1-16 characters of default repertoire, no backslash or control characters. */
export const aeTitleSchema = z
  .string()
  .regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'AE titles are 1-16 printable ASCII characters, no "\\"')
  .refine((s) => s.trim().length > 0, 'AE titles may not be blank');

/** One routing rule; the first rule whose given fields all match an instance wins. */
export const dicomRuleSchema = z
  .object({
    model: modelRefSchema,
    callingAET: z.string().min(1).optional(),
    modality: z.string().min(1).optional(),
    bodyPart: z.string().min(1).optional(),
    sopClass: dicomUidSchema.optional(),
    layer: z.string().min(1).optional(),
    method: camMethodSchema.optional(),
    align: camAlignSchema.optional(),
    /** A name in CAMFLOW_DICOM_DESTINATIONS: where the Secondary Capture is sent. */
    destination: z.string().min(1).optional(),
    /** Multi-frame instances: explain frame 0 (default) or every frame as its own job. */
    frames: z.enum(['first', 'each']).optional(),
  })
  .strict();
export type DicomRule = z.infer<typeof dicomRuleSchema>;

export const dicomDestinationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('dimse'),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      aeTitle: aeTitleSchema,
      callingAET: aeTitleSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('dicomweb'),
      url: z.string().url(),
      token: z.string().min(1).optional(),
    })
    .strict(),
]);
export type DicomDestination = z.infer<typeof dicomDestinationSchema>;
export const dicomDestinationsSchema = z.record(z.string().min(1), dicomDestinationSchema);
export type DicomDestinations = z.infer<typeof dicomDestinationsSchema>;

function parseJson<T>(name: string, schema: z.ZodType<T>, json: string | undefined, empty: T): T {
  if (!json) return empty;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`${name} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${name}: ${issue.path.join('.') || '(value)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses CAMFLOW_DICOM_DESTINATIONS (unset: none). */
export function parseDicomDestinations(json: string | undefined): DicomDestinations {
  return parseJson('CAMFLOW_DICOM_DESTINATIONS', dicomDestinationsSchema, json, {});
}

/**
 * Parses CAMFLOW_DICOM_RULES (unset: none, every instance is stored and skipped). A rule naming
 * a destination that `destinations` lacks is a configuration error, found at start-up.
 */
export function parseDicomRules(
  json: string | undefined,
  destinations?: DicomDestinations,
): DicomRule[] {
  const rules = parseJson('CAMFLOW_DICOM_RULES', z.array(dicomRuleSchema), json, []);
  if (destinations) {
    rules.forEach((r, i) => {
      if (r.destination && !(r.destination in destinations)) {
        throw new Error(
          `CAMFLOW_DICOM_RULES: ${i}.destination: "${r.destination}" is not in CAMFLOW_DICOM_DESTINATIONS`,
        );
      }
    });
  }
  return rules;
}

/** What a rule is matched against (from the association and the data set). */
export interface DicomRouteInput {
  callingAET?: string;
  modality?: string;
  bodyPart?: string;
  sopClass?: string;
}

/** The first rule whose given fields all equal the instance's (AE titles and codes trimmed). */
export function matchDicomRule(rules: DicomRule[], input: DicomRouteInput): DicomRule | undefined {
  const eq = (want: string | undefined, have: string | undefined) =>
    want === undefined || (have !== undefined && want.trim() === have.trim());
  return rules.find(
    (r) =>
      eq(r.callingAET, input.callingAET) &&
      eq(r.modality, input.modality) &&
      eq(r.bodyPart, input.bodyPart) &&
      eq(r.sopClass, input.sopClass),
  );
}

/** Secondary Capture Image Storage, what explanations go back as. */
export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
