import { z } from 'zod';
import { compactCamSchema } from './audit.js';
import { camMethodSchema, labelSetSchema, targetSchema, targetsSchema } from './jobs.js';

/** Per-image CAM statistics (at source resolution), as imaging computes them. */
export const camStatsSchema = z
  .object({
    /** Normalised peak location, x and y in [0, 1]. */
    peak: z.object({ x: z.number(), y: z.number() }),
    entropy: z.number(),
    /** Fraction of CAM energy in the border band (a corner marker shows up here). */
    borderEnergy: z.number(),
    maskEnergy: z.number().optional(),
  })
  .passthrough();

export const predictionSchema = z.object({
  /** The class the (first) CAM explains. */
  target: z.number().int(),
  scores: z.array(z.number()),
  /**
   * Argmax class; a single output is a yes/no decision: 1 when it is at or above its threshold
   * (`classes[0]` present), else 0. A multi-label model's predicted set is `labels`.
   */
  predicted: z.number().int(),
  classes: z.array(z.string()).optional(),
  /** What the outputs mean, from the card: `binary`, `multi-class` or `multi-label`. */
  kind: z.enum(['binary', 'multi-class', 'multi-label']).optional(),
  /** Multi-label: the predicted label set (outputs at or above their thresholds). */
  labels: z.array(z.number().int()).optional(),
  /** Multi-label and binary: each output's threshold (probability). */
  thresholds: z.array(z.number()).optional(),
});

/** Why a CAM is zero everywhere (it is flagged, never silently drawn as "no evidence"). */
export const emptyCamSchema = z.object({
  /** `saturated`: the score is 0 or 1 in float32, so its gradient is 0; `no-evidence`: nothing positive survives the ReLU. */
  reason: z.enum(['saturated', 'no-evidence']),
  message: z.string(),
});

/** One target's CAM of an image (results with several targets carry one per target). */
export const targetCamSchema = z.object({
  target: z.number().int(),
  className: z.string().optional(),
  /** The model's output for that class. */
  score: z.number(),
  overlayKey: z.string(),
  heatmapKey: z.string(),
  stats: z.record(z.unknown()),
  compactCam: compactCamSchema.optional(),
  empty: emptyCamSchema.optional(),
});

export const outputsSchema = z.object({
  overlayKey: z.string(),
  heatmapKey: z.string(),
  resultKey: z.string(),
  /** DICOM sources: the Secondary Capture (DICOM Part 10) in the output bucket. */
  dicomKey: z.string().optional(),
});

/**
 * The source as the job named it. Not the key policy's schema: a job whose payload broke the
 * policy still ends with a job.failed event that names what it was given.
 */
const eventSourceSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  etag: z.string().optional(),
  versionId: z.string().optional(),
  /** DICOM sources: the instance's UIDs (never PHI), so results can be found by study. */
  dicom: z
    .object({
      studyInstanceUID: z.string(),
      seriesInstanceUID: z.string(),
      sopInstanceUID: z.string(),
    })
    .optional(),
});

const common = {
  jobId: z.string(),
  runId: z.string(),
  source: eventSourceSchema,
  model: z.string(),
  layer: z.string().optional(),
  method: camMethodSchema,
  target: targetSchema,
  label: z.union([z.number().int(), z.string()]).optional(),
  /** Ground truth as a set (multi-label manifests). */
  labels: labelSetSchema.optional(),
  /** The job's several targets, as it asked for them. */
  targets: targetsSchema.optional(),
  /** The data-set split, as the job named it (folder labels). */
  split: z.string().optional(),
  /** When the job was submitted and finished (ms since epoch). */
  submittedAt: z.number().int(),
  finishedAt: z.number().int(),
  attempts: z.number().int().min(1),
  worker: z.string().optional(),
};

/** Published on the events stream when a job has its final outcome. */
export const completionEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('job.completed'),
    ...common,
    prediction: predictionSchema,
    outputs: outputsSchema,
    stats: camStatsSchema,
    /** Output bucket. */
    bucket: z.string(),
    image: z.object({ width: z.number().int(), height: z.number().int() }),
    timings: z.record(z.number()).optional(),
    /** The CAM as the audit needs it (absent from events of older workers). */
    compactCam: compactCamSchema.optional(),
    /** The (first) CAM is zero everywhere, and why. */
    emptyCam: emptyCamSchema.optional(),
    /**
     * Every target's CAM, in order, when the job has several targets (or a multi-label model's
     * predicted set); the fields above describe the first.
     */
    cams: z.array(targetCamSchema).optional(),
  }),
  z.object({
    type: z.literal('job.failed'),
    ...common,
    error: z.object({
      reason: z.string(),
      message: z.string(),
      /**
       * True when the job ran out of retries on a transient fault (S3 or Redis unreachable):
       * submitting it again runs it again instead of reusing this result.
       */
      retryable: z.boolean().optional(),
    }),
  }),
]);
export type CompletionEvent = z.infer<typeof completionEventSchema>;
export type CompletedEvent = Extract<CompletionEvent, { type: 'job.completed' }>;
export type FailedEvent = Extract<CompletionEvent, { type: 'job.failed' }>;

/** Stream entries carry the event as one JSON field. */
export const EVENT_FIELD = 'event';
