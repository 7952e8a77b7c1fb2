/**
 * `audit-occlude`: one chunk of an audit's images. Each image is fetched (its pinned version),
 * decoded and preprocessed in an image thread, then every occluded variant and faithfulness
 * input runs through the engine's plain forward pass (no gradients), a batch at a time.
 */
import {
  classProbabilities,
  executeImageTask,
  type ImageResult,
  type Predict,
} from '@camflow/audit';
import { type AuditOccludeJob, classifyError, PermanentError } from '@camflow/contracts';
import type { ModelCard } from '@camflow/imaging';
import { chunkDone } from './audit-store.js';
import type { AuditDeps } from './deps.js';

export interface OccludeOutput {
  results: ImageResult[];
  /** Images that could not be read (deleted, changed, undecodable), with the reason. */
  missing: { id: string; reason: string }[];
}

export async function runAuditOcclude(
  data: AuditOccludeJob,
  deps: AuditDeps,
): Promise<OccludeOutput> {
  const model = await deps.models.get(data.model);
  const { card } = model;
  const shape = inputShape(card);
  const predict: Predict = async (xs) => {
    const batch = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
    let offset = 0;
    for (const x of xs) {
      batch.set(x, offset);
      offset += x.length;
    }
    const r = await model.explainer.predict({ data: batch, dims: [xs.length, ...shape] });
    return xs.map((_, k) =>
      classProbabilities(
        r.scores.subarray(k * r.numClasses, (k + 1) * r.numClasses),
        card.output.activation,
      ),
    );
  };
  const out: OccludeOutput = { results: [], missing: [] };
  for (const task of data.tasks) {
    let tensor: Float32Array;
    try {
      const object = await deps.store.get(task.source.bucket, task.source.key, {
        maxBytes: deps.maxObjectBytes,
      });
      const wanted = task.source.etag?.replaceAll('"', '');
      if (wanted && object.info.etag && wanted !== object.info.etag.replaceAll('"', '')) {
        throw new PermanentError('source-changed', 'the image changed since it was explained');
      }
      tensor = (await deps.images.prepare(object.body, card, 'bulk')).tensor;
    } catch (err) {
      const e = classifyError(err);
      // Gone or changed: the evidence leaves it out. S3 or thread faults: the chunk retries.
      if (e instanceof PermanentError || (err as Error).name === 'ImageDecodeError') {
        out.missing.push({ id: task.jobId, reason: e.reason });
        continue;
      }
      throw err;
    }
    const [h, w] = card.input.size;
    out.results.push(
      await executeImageTask(
        {
          id: task.jobId,
          class: task.class,
          prob: task.prob,
          boxes: task.boxes,
          faithfulness: task.faithfulness,
        },
        {
          data: tensor,
          channels: card.input.channels,
          height: h,
          width: w,
          layout: card.input.layout,
        },
        predict,
      ),
    );
  }
  await chunkDone(deps.redis, data.runId);
  return out;
}

function inputShape(card: ModelCard): number[] {
  const [h, w] = card.input.size;
  const c = card.input.channels;
  return card.input.layout === 'NHWC' ? [h, w, c] : [c, h, w];
}
