import { z } from 'zod';
import { compactCamSchema } from './audit.js';
import { camMethodSchema, targetSchema } from './jobs.js';

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
  target: z.number().int(),
  scores: z.array(z.number()),
  /** Argmax class (index 0 for a single sigmoid output scored > 0.5 = positive, see `positive`). */
  predicted: z.number().int(),
  classes: z.array(z.string()).optional(),
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
