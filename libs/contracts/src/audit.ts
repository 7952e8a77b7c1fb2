import { z } from 'zod';

/**
 * An image's CAM as the audit needs it, carried by each job.completed event: at the hooked
 * layer's resolution, normalised to its maximum and quantised to bytes (base64), with the cell
 * grid it was drawn on and the model input's size, so the audit can lay every image's map in the
 * model input's frame without the image. About 350 bytes for a 16x16 map.
 */
export const compactCamSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** width * height bytes, row-major, 255 = the map's maximum (all 0 for an empty map). */
  data: z.string(),
  /** Receptive-field centres of the cells, when the CAM was drawn on them. */
  grid: z
    .object({
      origin: z.tuple([z.number(), z.number()]),
      stride: z.tuple([z.number(), z.number()]),
    })
    .optional(),
  /** The model input's width and height (the frame the audit works in). */
  input: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
});
export type CompactCam = z.infer<typeof compactCamSchema>;

export const AUDIT_VERDICTS = ['shortcut-suspected', 'no-finding', 'inconclusive'] as const;
export type AuditVerdict = (typeof AUDIT_VERDICTS)[number];
export const AUDIT_STATUSES = ['pending', 'running', 'done', 'failed'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

/** A box in the model input's frame, normalised to [0, 1]; x, y = top-left corner. */
export const boxSchema = z.object({
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
});
export type Box = z.infer<typeof boxSchema>;

export const occlusionSchema = z.object({
  /** Over the carriers tested: how often occluding the region changed the predicted class. */
  flipRate: z.number(),
  /** Mean drop of the class's probability when the region is occluded. */
  scoreDrop: z.number(),
  /** The same for equally sized regions where the class's evidence usually lies (controls). */
  controlFlipRate: z.number(),
  controlScoreDrop: z.number(),
  /** Carriers tested, control placements per carrier, and the paired sign test's p-value. */
  images: z.number().int().optional(),
  controls: z.number().int().optional(),
  pValue: z.number().optional(),
});

/** A region that many images' heat concentrates in, with its occlusion evidence. */
export const findingSchema = z.object({
  class: z.number().int(),
  className: z.string().optional(),
  box: boxSchema,
  /** Share of the class's images whose CAM peak lies in the box ("carriers"). */
  imageShare: z.number(),
  /** Mean share of a carrier's heat inside the box. */
  heatShare: z.number(),
  occlusion: occlusionSchema,
  /** A few inputs that show it (file paths, or s3:// URIs in a pipeline run). */
  examples: z.array(z.string()),
  /** Pipeline runs: the example images' job ids (for overlays). */
  exampleJobs: z.array(z.string()).optional(),
  /** Peaks in the box beyond what the surrounding density explains, and how isolated it is. */
  excessShare: z.number().optional(),
  /** Density inside / around, conservatively (what decides), and its point estimate. */
  isolation: z.number().optional(),
  isolationPoint: z.number().optional(),
  carriers: z.number().int().optional(),
  /** Where the box is, in words ("top-right corner"). */
  place: z.string().optional(),
});
export type Finding = z.infer<typeof findingSchema>;

export const heatMapSchema = z.object({
  width: z.number().int(),
  height: z.number().int(),
  /** Row-major, in [0, 1]. */
  data: z.array(z.number()),
});

/** The audit of a run or a folder (`camflow audit --json`, `GET /v1/runs/:runId/audit`). */
export const auditDocumentSchema = z.object({
  model: z.string(),
  images: z.number().int(),
  verdict: z.enum(AUDIT_VERDICTS),
  findings: z.array(findingSchema),
  /** Mean normalised CAM in the model input's frame over the audited class's images. */
  atlas: heatMapSchema,
  faithfulness: z.record(z.unknown()),
  /** Everything else the audit measured (candidates that were not findings, per-group atlases, ...). */
  summary: z.string().optional(),
});
export type AuditDocument = z.infer<typeof auditDocumentSchema> & Record<string, unknown>;

/** Payload of `audit-plan` (after a run completes) and `audit-finalize` (after its occlusions). */
export const auditRunJobSchema = z.object({ runId: z.string().min(1) }).strict();
export type AuditRunJob = z.infer<typeof auditRunJobSchema>;

const pixelBoxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** One image's occlusion and faithfulness work (boxes in model-input pixels: x, y, w, h). */
export const auditImageTaskSchema = z.object({
  jobId: z.string(),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    etag: z.string().optional(),
    versionId: z.string().optional(),
  }),
  /** The class whose probability is measured, and its probability on the unmodified image. */
  class: z.number().int(),
  prob: z.number(),
  /** Boxes to occlude, one forward pass each. */
  boxes: z.array(pixelBoxSchema),
  /** Deletion/insertion curves over the CAM's order and a random one (seeded). */
  faithfulness: z.object({ seed: z.number().int(), cam: compactCamSchema }).optional(),
});
export type AuditImageTask = z.infer<typeof auditImageTaskSchema>;

/** Payload of `audit-occlude`: a chunk of images of one run's audit. */
export const auditOccludeJobSchema = z
  .object({
    runId: z.string().min(1),
    model: z.string(),
    chunk: z.number().int().min(0),
    tasks: z.array(auditImageTaskSchema).max(256),
  })
  .strict();
export type AuditOccludeJob = z.infer<typeof auditOccludeJobSchema>;

/**
 * Where an audit keeps its files in the output bucket: the plan between its jobs, the document,
 * the atlas drawn over a typical image, and each finding's example images with the region drawn.
 */
export function auditKeys(runId: string) {
  const base = `audits/${encodeURIComponent(runId)}`;
  return {
    plan: `${base}/plan.json`,
    doc: `${base}/audit.json`,
    atlas: `${base}/atlas.png`,
    example: (finding: number, i: number) => `${base}/finding-${finding}-${i}.png`,
  };
}
