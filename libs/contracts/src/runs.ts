import { z } from 'zod';
import {
  camAlignSchema,
  camMethodSchema,
  prioritySchema,
  targetSchema,
  targetsRequestSchema,
  targetsSchema,
} from './jobs.js';
import { modelRefSchema } from './model-ref.js';
import { bucketNameSchema, keyPrefixSchema, objectKeySchema } from './object-keys.js';

/**
 * Labels from the source's folder names (the ImageFolder layout, `<split>/<class>/<image>`):
 * each image's label is its nearest parent folder that names a class (case-insensitively), the
 * folder above that its split. `classes` maps folder names to class indices; without it the
 * model card's `output.classes` name them (a single-output model's class is the positive one,
 * index 1: its negative folder must be mapped here). Folders naming no class fail the run.
 */
export const folderLabelsSchema = z
  .object({
    from: z.literal('folder'),
    classes: z
      .record(z.string().min(1).max(255), z.number().int().min(0).max(100_000))
      .refine((c) => Object.keys(c).length > 0 && Object.keys(c).length <= 10_000, {
        message: 'name 1 to 10,000 folders',
      })
      .optional(),
  })
  .strict();
export type FolderLabels = z.infer<typeof folderLabelsSchema>;

/** `POST /v1/runs` body (ARCHITECTURE.md contract). */
export const createRunRequestSchema = z
  .object({
    model: modelRefSchema,
    source: z
      .object({
        bucket: bucketNameSchema,
        prefix: keyPrefixSchema.optional(),
        keys: z.array(objectKeySchema).max(10_000).optional(),
        /** An object of keys: CSV (`key[,label]`, header optional) or JSONL (`{"key", "label"?}`). */
        manifest: objectKeySchema.optional(),
      })
      .strict()
      .refine((s) => [s.prefix, s.keys, s.manifest].filter((x) => x !== undefined).length <= 1, {
        message: 'give one of prefix, keys or manifest',
      }),
    layer: z.string().min(1).optional(),
    method: camMethodSchema.optional(),
    target: targetSchema.optional(),
    /** Several CAMs per image: class names or indices, `all`, `predicted`, `{"top": k}`. */
    targets: targetsRequestSchema.optional(),
    align: camAlignSchema.optional(),
    priority: prioritySchema.optional(),
    /**
     * The data-set audit when the run completes. Default: on for runs of at least
     * `AUDIT_MIN_IMAGES` images (fewer cannot support a data-set finding; ask with true).
     */
    audit: z.boolean().optional(),
    /** Ground truth from folder names (prefix or keys sources; a manifest brings its own). */
    labels: folderLabelsSchema.optional(),
  })
  .strict()
  .refine((r) => !(r.labels && r.source.manifest), {
    message: 'labels from folders need a prefix or keys source: a manifest brings its own labels',
    path: ['labels'],
  });
export type CreateRunRequest = z.infer<typeof createRunRequestSchema>;

/** `POST /v1/jobs` body: one image, realtime by default. */
export const createJobRequestSchema = z
  .object({
    model: modelRefSchema,
    source: z.object({ bucket: bucketNameSchema, key: objectKeySchema }).strict(),
    layer: z.string().min(1).optional(),
    method: camMethodSchema.optional(),
    target: targetSchema.optional(),
    targets: targetsRequestSchema.optional(),
    align: camAlignSchema.optional(),
  })
  .strict();

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run as stored (Redis hash `camflow:run:<id>`, fields JSON-encoded where not strings). */
export const runRecordSchema = z.object({
  runId: z.string(),
  kind: z.enum(['run', 'events', 'job']),
  model: z.string(),
  layer: z.string().optional(),
  method: camMethodSchema,
  target: targetSchema,
  /** Several CAMs per image, class names resolved (absent: the card's `targets`). */
  targets: targetsSchema.optional(),
  /** Absent: the model card's. */
  align: camAlignSchema.optional(),
  priority: prioritySchema,
  source: z.object({
    bucket: z.string(),
    prefix: z.string().optional(),
    keys: z.array(z.string()).optional(),
    manifest: z.string().optional(),
  }),
  /** Hash of the token that created it (never the token). */
  owner: z.string(),
  createdAt: z.number().int(),
  /** Set when every key has been enqueued; until then `total` is a lower bound. */
  listingDone: z.boolean(),
  /** Why the run itself failed (e.g. the manifest does not exist). */
  error: z.string().optional(),
  /** As asked in the request (absent: by size, see AUDIT_MIN_IMAGES). */
  audit: z.boolean().optional(),
  /** Folder labels, with `classes` resolved (from the request or the model card) at creation. */
  labels: z
    .object({
      from: z.literal('folder'),
      classes: z.record(z.string(), z.number().int()),
      /** How to map folders that name no class (shown when the survey finds some). */
      hint: z.string().optional(),
    })
    .optional(),
});

/** Runs with at least this many images are audited unless they say `audit: false`. */
export const AUDIT_MIN_IMAGES = 50;
export type RunRecord = z.infer<typeof runRecordSchema>;
