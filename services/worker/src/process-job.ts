/**
 * One explain job, start to finish: validate the payload, fetch the image and the model,
 * decode and preprocess, explain (micro-batched with other jobs), render the overlay, heatmap
 * and statistics (as the card's `render` settings and outputs.ts say), write them to the output
 * bucket, publish job.completed.
 * Outputs go to S3 before the event, so whoever reads the event finds them.
 */

import { compactCam } from '@camflow/audit';
import {
  type CompletedEvent,
  type CompletionEvent,
  type ExplainJob,
  explainJobSchema,
  explainSettingsSchema,
  type FailedEvent,
  outputKeys,
  PermanentError,
  type TransientError,
  targetOutputKeys,
} from '@camflow/contracts';
import { alignCam, type Explanation, emptyCamReason, type ModelCard } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import { type DicomOutputDeps, dicomSourceOf, writeDicomExplanation } from './dicom/explanation.js';
import type { Cam, ImageWork } from './image-work.js';
import { toJobError } from './job-errors.js';
import type { MicroBatcher } from './micro-batcher.js';
import type { LoadedModel } from './model-registry.js';
import { OVERLAY_TYPES, outputSettings, renderOptions } from './outputs.js';
import { eventStats, explainedCaption, predictionOf } from './prediction.js';
import { type ChosenTarget, chooseTargets, planTargets } from './targets.js';

/** What a job needs from the worker around it. */
export interface JobDeps {
  store: ObjectStore;
  models: { get(ref: string): Promise<LoadedModel> };
  batcher: MicroBatcher;
  /** Decoding, preprocessing and rendering (in worker threads, or inline). */
  images: ImageWork;
  /** Appends an event to the events stream. */
  publish(event: CompletionEvent): Promise<void>;
  /** CAMFLOW_OUTPUT_BUCKET */
  outputBucket: string;
  /** Larger source objects fail permanently ('too-large'). */
  maxObjectBytes: number;
  /** Written into events (host:pid). */
  workerId: string;
  logger?: Logger;
  /** DICOM sources: where Secondary Captures may be sent (CAMFLOW_DICOM_DESTINATIONS). */
  dicom?: DicomOutputDeps;
}

/** The BullMQ job as processJob sees it. */
export interface JobInput {
  id: string;
  data: unknown;
  /** 1 for the first attempt. */
  attempt: number;
  priority: 'realtime' | 'bulk';
}

/** Milliseconds per stage: fetch, model, prepare (decode, preprocess), queue, explain, render, upload, publish, total. */
export type StageTimings = Record<string, number>;

/** Default cap on source objects (64 MiB): a bigger "image" is a mistake, not a scan. */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/** Validates a payload; an invalid one can never succeed. */
export function parsePayload(data: unknown): ExplainJob {
  const parsed = explainJobSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PermanentError(
      'invalid-payload',
      `invalid explain job payload: ${issue.path.join('.') || '(payload)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/**
 * Runs one job and publishes its job.completed event. Throws PermanentError or TransientError
 * (already classified); publishing job.failed is the caller's decision (it knows the attempts).
 */
export async function processJob(
  job: JobInput,
  deps: JobDeps,
): Promise<{ event: CompletedEvent; timings: StageTimings }> {
  const clock = new StageClock();
  try {
    const payload = parsePayload(job.data);
    const { source, settings } = payload;
    const [object, model] = await Promise.all([
      clock.time('fetch', () =>
        deps.store.get(source.bucket, source.key, { maxBytes: deps.maxObjectBytes }),
      ),
      clock.time('model', () => deps.models.get(settings.model)),
    ]);
    checkVersion(payload, object.info.etag);
    const { card } = model;
    const classes = card.output.classes.length;
    if (typeof settings.target === 'number' && settings.target >= classes) {
      throw new PermanentError(
        'invalid-target',
        `target ${settings.target} is not a class of ${settings.model} (${classes} output${classes === 1 ? '' : 's'})`,
      );
    }
    // Several targets: resolved before any work, so that a class the model lacks fails at once.
    const plan = planTargets(settings, card, settings.model);
    // Read before the bytes move to an image thread.
    const dicomSource = dicomSourceOf(object.body, settings);
    // prepare = decode + preprocess + waiting for a free image thread.
    const pre = await clock.time('prepare', () =>
      deps.images.prepare(object.body, card, job.priority, {
        dicomFrame: settings.dicom?.frame,
      }),
    );
    clock.set('decode', pre.decodeMs);
    clock.set('preprocess', pre.preprocessMs);

    const layer = settings.layer ?? card.layer;
    const submitted = performance.now();
    const cam = await deps.batcher.submit({
      key: {
        model: model.ref,
        layer,
        method: settings.method,
        score: 'output',
        ...(plan && { targets: plan.engine }),
      },
      explainer: model.explainer,
      tensor: pre.tensor,
      shape: pre.shape,
      target: settings.target,
      priority: job.priority,
    });
    clock.set('queue', cam.waitMs);
    clock.set('explain', performance.now() - submitted - cam.waitMs);

    // The job, else the card, decides whether the map is drawn on the layer's receptive fields.
    const align = settings.align ?? card.align;
    const chosen = chooseTargets(cam, plan, card);
    const drawnAll: Cam[] = chosen.map((t) => alignCam(t.cam, align, cam.grid));
    const drawn = drawnAll[0];
    if (align === 'receptive-field' && !drawn.grid) warnNoGrid(deps.logger, model.ref, cam.layer);
    const drawing = outputSettings(card);
    const options = renderOptions(drawing);
    const renders = await clock.time('render', () =>
      drawnAll.length === 1
        ? deps.images.render(pre.image, pre.geometry, drawn, job.priority, options).then((r) => [r])
        : deps.images.renderMany(pre.image, pre.geometry, drawnAll, job.priority, options),
    );
    const rendered = renders[0];
    const overlayType = OVERLAY_TYPES[drawing.overlay.format];
    const outputs: ReturnType<typeof outputKeys> & { dicomKey?: string } = outputKeys(
      source.bucket,
      source.key,
      job.id,
      overlayType.ext,
    );
    // The first target's files keep the single-target keys (what older readers open).
    const keysOf = chosen.map((t, k) =>
      k === 0
        ? outputs
        : targetOutputKeys(source.bucket, source.key, job.id, t.target, overlayType.ext),
    );
    await clock.time('upload', () =>
      Promise.all(
        renders.flatMap((r, k) => [
          deps.store.put(
            deps.outputBucket,
            keysOf[k].overlayKey,
            r.overlay,
            overlayType.contentType,
          ),
          deps.store.put(deps.outputBucket, keysOf[k].heatmapKey, r.heatmap, 'image/png'),
        ]),
      ),
    );
    const frame = { width: card.input.size[1], height: card.input.size[0] };
    const empties = chosen.map((t) => emptyOf(t, card));
    if (dicomSource) {
      outputs.dicomKey = await clock.time('dicom', () =>
        writeDicomExplanation(deps.store, deps.dicom, {
          source: dicomSource,
          settings,
          jobId: job.id,
          overlay: rendered.overlay,
          width: rendered.width,
          height: rendered.height,
          // The overlay is the first target's map: the caption names that class.
          prediction: explainedCaption(cam.scores, card, chosen[0].target),
          bucket: deps.outputBucket,
          resultKey: outputs.resultKey,
        }),
      );
    }
    const event: CompletedEvent = {
      type: 'job.completed',
      ...common(payload, job, deps.workerId),
      layer: cam.layer,
      prediction: predictionOf(cam.scores, card, chosen[0].target),
      outputs,
      stats: eventStats(rendered.stats),
      bucket: deps.outputBucket,
      image: { width: rendered.width, height: rendered.height },
      timings: clock.snapshot(),
      // The data-set audit's input: the map as drawn, in the model input's frame.
      compactCam: compactCam(drawn, frame),
      ...(empties[0] && { emptyCam: empties[0] }),
      ...(plan && {
        cams: chosen.map((t, k) =>
          targetCam(t, card, keysOf[k], renders[k], drawnAll[k], frame, empties[k]),
        ),
      }),
    };
    await clock.time('publish', async () => {
      const result = {
        ...event,
        // The raw CAM (after ReLU, before normalisation), where its cells are drawn and the
        // preprocessing geometry: every heatmap resolution can be recomputed from these exactly.
        // (The first target's: with several, the engine's first map may be another class.)
        cam: {
          layer: cam.layer,
          width: chosen[0].cam.width,
          height: chosen[0].cam.height,
          align: drawn.grid ? 'receptive-field' : 'resize',
          ...(drawn.grid && { grid: drawn.grid }),
          data: Array.from(chosen[0].cam.data),
        },
        ...(plan && {
          targetCams: chosen.map((t) => ({
            target: t.target,
            score: t.score,
            width: t.cam.width,
            height: t.cam.height,
            data: Array.from(t.cam.data),
          })),
        }),
        geometry: pre.geometry,
        overlay: { format: drawing.overlay.format, ...rendered.overlaySize },
        heatmap: { bitDepth: 16, ...rendered.heatmapSize },
        batchSize: cam.batchSize,
      };
      await deps.store.put(
        deps.outputBucket,
        outputs.resultKey,
        JSON.stringify(result),
        'application/json',
      );
      await deps.publish(event);
    });
    return { event, timings: clock.snapshot() };
  } catch (err) {
    throw toJobError(err);
  }
}

/** The job.failed event for a payload (validated) and its final error. */
export function failedEvent(
  payload: ExplainJob,
  job: Pick<JobInput, 'id' | 'attempt'>,
  err: PermanentError | TransientError,
  workerId: string,
): FailedEvent {
  return {
    type: 'job.failed',
    ...common(payload, job, workerId),
    error: {
      reason: err.reason,
      message: err.message,
      // Out of retries on a fault that may pass: a later submission should run it again.
      ...(err instanceof PermanentError ? {} : { retryable: true }),
    },
  };
}

/**
 * job.failed for a payload that does not parse (e.g. a key over 1024 bytes queued by an older
 * ingest): no job may end without an event, so whatever is readable is reported, as long as the
 * run id is (without it no run could count the job). Undefined when even that is unreadable.
 */
export function unreadablePayloadEvent(
  data: unknown,
  job: Pick<JobInput, 'id' | 'attempt'> & { timestamp?: number },
  err: PermanentError | TransientError,
  workerId: string,
): FailedEvent | undefined {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof d.runId !== 'string' || d.runId === '' || job.id === '') return undefined;
  const src = (typeof d.source === 'object' && d.source !== null ? d.source : {}) as Record<
    string,
    unknown
  >;
  const settings = explainSettingsSchema.safeParse(d.settings);
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 2048) : '');
  const payload: ExplainJob = {
    runId: d.runId,
    source: { bucket: text(src.bucket), key: text(src.key) },
    settings: settings.success
      ? settings.data
      : {
          model: text((d.settings as { model?: unknown } | undefined)?.model),
          method: 'gradcam',
          target: 'predicted',
        },
    submittedAt:
      typeof d.submittedAt === 'number' ? Math.trunc(d.submittedAt) : (job.timestamp ?? Date.now()),
  };
  return failedEvent(payload, job, err, workerId);
}

function common(payload: ExplainJob, job: Pick<JobInput, 'id' | 'attempt'>, workerId: string) {
  return {
    jobId: job.id,
    runId: payload.runId,
    source: payload.source,
    model: payload.settings.model,
    layer: payload.settings.layer,
    method: payload.settings.method,
    target: payload.settings.target,
    ...(payload.settings.targets !== undefined ? { targets: payload.settings.targets } : {}),
    ...(payload.label !== undefined ? { label: payload.label } : {}),
    ...(payload.labels !== undefined ? { labels: payload.labels } : {}),
    ...(payload.split !== undefined ? { split: payload.split } : {}),
    submittedAt: payload.submittedAt,
    finishedAt: Date.now(),
    attempts: job.attempt,
    worker: workerId,
  };
}

// The job id pins the object's ETag: if the object was overwritten since, this job's outputs
// would describe other pixels. The new version gets its own job (a new id) when announced.
function checkVersion(payload: ExplainJob, etag: string | undefined): void {
  const wanted = payload.source.etag?.replaceAll('"', '');
  if (wanted && etag && wanted !== etag.replaceAll('"', '')) {
    throw new PermanentError(
      'source-changed',
      `s3://${payload.source.bucket}/${payload.source.key} changed since the job was queued (ETag ${etag}, job has ${wanted})`,
    );
  }
}

/** Why a target's map is zero everywhere (undefined when it is not). */
function emptyOf(t: ChosenTarget, card: ModelCard) {
  if (t.cam.data.some((v) => v > 0)) return undefined;
  const name = card.output.classes[t.target] ?? `class ${t.target}`;
  return emptyCamReason(name, t.score, card.output.activation);
}

/** One target's entry in the event's `cams`. */
function targetCam(
  t: ChosenTarget,
  card: ModelCard,
  keys: { overlayKey: string; heatmapKey: string },
  r: Explanation,
  drawn: Cam,
  frame: { width: number; height: number },
  empty: ReturnType<typeof emptyOf>,
): NonNullable<CompletedEvent['cams']>[number] {
  const className = card.output.classes[t.target];
  return {
    target: t.target,
    ...(className !== undefined && { className }),
    score: t.score,
    overlayKey: keys.overlayKey,
    heatmapKey: keys.heatmapKey,
    stats: eventStats(r.stats),
    compactCam: compactCam(drawn, frame),
    ...(empty && { empty }),
  };
}

/** Per-stage wall-clock times in ms. */
class StageClock {
  private readonly started = performance.now();
  private readonly stages: StageTimings = {};

  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.set(stage, performance.now() - t0);
    }
  }

  set(stage: string, ms: number): void {
    this.stages[stage] = Math.round(ms * 10) / 10;
  }

  snapshot(): StageTimings {
    return { ...this.stages, total: Math.round((performance.now() - this.started) * 10) / 10 };
  }
}

const warnedNoGrid = new Set<string>();

/** Once per model and layer: receptive-field drawing was asked for but the graph cannot give it. */
function warnNoGrid(logger: Logger | undefined, model: string, layer: string): void {
  const key = `${model} ${layer}`;
  if (warnedNoGrid.has(key)) return;
  warnedNoGrid.add(key);
  logger?.warn(
    { model, layer },
    "align receptive-field was asked for but the graph does not give this layer's receptive fields: CAMs are drawn resized",
  );
}
