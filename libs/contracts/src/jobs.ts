import { createHash } from 'node:crypto';
import { z } from 'zod';
import { auditOccludeJobSchema, auditRunJobSchema } from './audit.js';
import { dicomIdentitySchema, dicomJobSchema } from './dicom-ids.js';
import { modelRefSchema } from './model-ref.js';
import { bucketNameSchema, objectKeySchema } from './object-keys.js';

export const CAM_METHODS = [
  'gradcam',
  'gradcam++',
  'xgradcam',
  'hirescam',
  'layercam',
  'eigencam',
] as const;
export type CamMethod = (typeof CAM_METHODS)[number];
export const camMethodSchema = z.enum(CAM_METHODS);

/**
 * How a CAM is laid over the image: `resize` scales the map like an image (the seed);
 * `receptive-field` centres each cell on its receptive field (see the model card's `align`).
 */
export const CAM_ALIGNMENTS = ['resize', 'receptive-field'] as const;
export type CamAlignment = (typeof CAM_ALIGNMENTS)[number];
export const camAlignSchema = z.enum(CAM_ALIGNMENTS);
export const targetSchema = z.union([z.literal('predicted'), z.number().int().min(0)]);

/** Most CAMs one image gets (each is an overlay, a heatmap and statistics). */
export const MAX_TARGETS = 64;

/**
 * Several CAMs per image, as jobs carry them (class names resolved to indices by ingest):
 * `all` classes, a list, the `top` k scores, or `predicted` (a multi-label model's predicted
 * label set; the argmax for other models).
 */
export const targetsSchema = z.union([
  z.literal('all'),
  z.literal('predicted'),
  z.array(z.number().int().min(0)).min(1).max(MAX_TARGETS),
  z.object({ top: z.number().int().min(1).max(MAX_TARGETS) }).strict(),
]);
export type TargetsSpec = z.infer<typeof targetsSchema>;

/** `targets` as requests may write them: class names as well as indices. */
export const targetsRequestSchema = z.union([
  z.literal('all'),
  z.literal('predicted'),
  z
    .array(z.union([z.number().int().min(0), z.string().min(1).max(255)]))
    .min(1)
    .max(MAX_TARGETS),
  z.object({ top: z.number().int().min(1).max(MAX_TARGETS) }).strict(),
]);
export type TargetsRequest = z.infer<typeof targetsRequestSchema>;

/** A ground-truth label set (multi-label manifests): class names or indices. */
export const labelSetSchema = z.array(z.union([z.number().int(), z.string().max(255)])).max(1000);
export const prioritySchema = z.enum(['bulk', 'realtime']);

/** An object to explain. `etag` or `versionId` pins the content (part of the job id). */
export const sourceObjectSchema = z
  .object({
    bucket: bucketNameSchema,
    key: objectKeySchema,
    etag: z.string().optional(),
    versionId: z.string().optional(),
    /** A DICOM instance's UIDs (DICOM intake), kept into results; never part of the job id. */
    dicom: dicomIdentitySchema.optional(),
  })
  .strict();
export type SourceObject = z.infer<typeof sourceObjectSchema>;

/** What is computed: the same settings on the same object give the same job id. */
export const explainSettingsSchema = z
  .object({
    model: modelRefSchema,
    /** Empty = the model card's layer (resolved by the worker). */
    layer: z.string().min(1).optional(),
    method: camMethodSchema.default('gradcam'),
    target: targetSchema.default('predicted'),
    /** Several CAMs per image (overrides `target`; absent: the card's `targets`). */
    targets: targetsSchema.optional(),
    /** Empty = the model card's align. */
    align: camAlignSchema.optional(),
    /** DICOM sources: the frame to explain and where the Secondary Capture goes. */
    dicom: dicomJobSchema.optional(),
  })
  .strict();
export type ExplainSettings = z.infer<typeof explainSettingsSchema>;

/** Payload of a job on the realtime or bulk queue. */
export const explainJobSchema = z
  .object({
    runId: z.string().min(1),
    source: sourceObjectSchema,
    settings: explainSettingsSchema,
    /** Ground truth from a manifest, for the audit report. */
    label: z.union([z.number().int(), z.string()]).optional(),
    /** Ground truth as a set (multi-label manifests); an empty list is "no finding". */
    labels: labelSetSchema.optional(),
    /** The data-set split the image belongs to (folder labels: the folder above its class). */
    split: z.string().min(1).max(255).optional(),
    submittedAt: z.number().int(),
  })
  .strict();
export type ExplainJob = z.infer<typeof explainJobSchema>;

/** Payload of a run-expansion job: list the run's source into explain jobs, resumably. */
export const expandRunJobSchema = z.object({ runId: z.string().min(1) }).strict();
export type ExpandRunJob = z.infer<typeof expandRunJobSchema>;

/** Typed job map: job name -> payload schema. A handler missing for a name is a compile error. */
export const JOBS = {
  explain: explainJobSchema,
  'expand-run': expandRunJobSchema,
  'audit-plan': auditRunJobSchema,
  'audit-occlude': auditOccludeJobSchema,
  'audit-finalize': auditRunJobSchema,
} as const;
export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]>;

/** Retry policy per job: transient faults back off exponentially; permanent ones fail at once. */
export const RETRY = {
  explain: { attempts: 6, backoff: { type: 'exponential', delay: 1000 } },
  'expand-run': { attempts: 10, backoff: { type: 'exponential', delay: 1000 } },
  'audit-plan': { attempts: 6, backoff: { type: 'exponential', delay: 2000 } },
  'audit-occlude': { attempts: 6, backoff: { type: 'exponential', delay: 2000 } },
  'audit-finalize': { attempts: 6, backoff: { type: 'exponential', delay: 2000 } },
} as const;

/**
 * The job id: a hash of what determines the output (object identity and content version,
 * model, layer, method, target). Re-ingesting the same object is a no-op and retries overwrite
 * the same outputs. BullMQ ids must not contain ':'.
 */
export function explainJobId(source: SourceObject, settings: ExplainSettings): string {
  const parts = [
    source.bucket,
    source.key,
    source.versionId ?? '',
    (source.etag ?? '').replaceAll('"', ''),
    settings.model,
    settings.layer ?? '',
    settings.method,
    String(settings.target),
    // Only when given, so that ids of jobs without it stay what they were.
    ...(settings.align ? [settings.align] : []),
    ...(settings.targets !== undefined ? [`targets:${JSON.stringify(settings.targets)}`] : []),
    ...(settings.dicom
      ? [`dicom:${settings.dicom.frame ?? 0}:${settings.dicom.destination ?? ''}`]
      : []),
  ];
  return `x${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40)}`;
}
