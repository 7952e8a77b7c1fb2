/**
 * The whole audit in this process, for a folder of images (no Redis, no S3): explain every image
 * (collecting the statistics as it goes), plan the occlusions, run them, finalize.
 */

import { readFile } from 'node:fs/promises';
import {
  AuditCollector,
  type AuditImage,
  type AuditPlan,
  auditClassNames,
  classProbabilities,
  compactCam,
  executeImageTask,
  finalizeAudit,
  type ImageResult,
  type ImageTensor,
  labelToClass,
  planAudit,
  predictedOf,
} from '@camflow/audit';
import type { AuditDocument } from '@camflow/contracts';
import { Engine, type EngineOptions } from '@camflow/engine';
import { alignCam, CAM_METHODS, decodeImage, type ModelCard, preprocess } from '@camflow/imaging';
import { oneOf } from '../args.js';
import type { ModelSource } from '../model-source.js';
import { ProgressBar } from '../progress.js';
import { UsageError } from '../usage.js';

const BATCH = 16;

export interface LocalAuditOptions {
  layer?: string;
  method?: string;
  labels?: Map<string, string>;
  progress?: boolean;
}

/** What the audit needs of each input, kept for the report. */
export interface AuditedInput {
  file: string;
  cam: AuditImage['cam'];
  predicted: number;
  probs: number[];
}

export interface LocalAudit {
  doc: AuditDocument;
  plan: AuditPlan;
  inputs: Map<string, AuditedInput>;
  card: ModelCard;
}

/** Runs the audit of `files` with the model. */
export async function runLocalAudit(
  source: ModelSource,
  card: ModelCard,
  files: string[],
  engineOptions: EngineOptions,
  opts: LocalAuditOptions = {},
): Promise<LocalAudit> {
  const engine = Engine.load(source.bytes, engineOptions);
  try {
    const layer = opts.layer ?? card.layer;
    const method = oneOf(opts.method ?? card.method, 'method', CAM_METHODS, 'gradcam');
    const collector = new AuditCollector();
    const inputs = new Map<string, AuditedInput>();
    const bar = opts.progress ? new ProgressBar('explain') : undefined;
    let numOutputs = 0;
    let resolvedLayer = layer;
    let badLabels = 0;
    for (let i = 0; i < files.length; i += BATCH) {
      const batch = files.slice(i, i + BATCH);
      const tensors = await Promise.all(batch.map((f) => tensorOf(f, card)));
      const r = await engine.explain(stack(tensors), { layer, method, target: 'predicted' });
      numOutputs = r.numClasses;
      resolvedLayer = r.layer;
      const names = auditClassNames(r.numClasses, card.output.classes);
      const [, h, w] = r.cams.dims;
      batch.forEach((file, k) => {
        const probs = classProbabilities(
          r.scores.subarray(k * r.numClasses, (k + 1) * r.numClasses),
          card.output.activation,
        );
        const raw = {
          data: r.cams.data.subarray(k * h * w, (k + 1) * h * w),
          width: w,
          height: h,
          grid: r.grid,
        };
        const drawn = alignCam(raw, card.align, r.grid);
        const cam = compactCam(drawn, { width: tensors[k].width, height: tensors[k].height });
        const label = opts.labels?.get(file);
        const labelClass = label === undefined ? undefined : labelToClass(label, names);
        if (label !== undefined && labelClass === undefined) badLabels++;
        const img: AuditImage = {
          id: file,
          example: file,
          numOutputs: r.numClasses,
          probs,
          predicted: predictedOf(probs),
          target: r.targets[k],
          ...(labelClass !== undefined && { label: labelClass }),
          cam,
        };
        collector.add(img);
        inputs.set(file, { file, cam, predicted: img.predicted, probs });
      });
      bar?.update(Math.min(files.length, i + BATCH), files.length);
    }
    bar?.done();
    if (badLabels > 0)
      process.stderr.write(
        `camflow: warning: ${badLabels} labels name no class of the model; ignored\n`,
      );

    const plan = planAudit(collector.result());
    const predict = async (xs: Float32Array[]) => {
      const t0 = await engine.predict({ data: concat(xs), dims: [xs.length, ...shapeOf(card)] });
      return Array.from({ length: xs.length }, (_, k) =>
        classProbabilities(
          t0.scores.subarray(k * t0.numClasses, (k + 1) * t0.numClasses),
          card.output.activation,
        ),
      );
    };
    const results: ImageResult[] = [];
    const occ = opts.progress && plan.tasks.length > 0 ? new ProgressBar('occlude') : undefined;
    for (const [k, task] of plan.tasks.entries()) {
      results.push(await executeImageTask(task, await tensorOf(task.id, card), predict));
      occ?.update(k + 1, plan.tasks.length);
    }
    occ?.done();
    const doc = finalizeAudit(plan, results, {
      name: source.name,
      classNames: auditClassNames(numOutputs, card.output.classes),
      layer: resolvedLayer,
      method,
    });
    return { doc, plan, inputs, card };
  } finally {
    await engine.close();
  }
}

function shapeOf(card: ModelCard): number[] {
  const [h, w] = card.input.size;
  const c = card.input.channels;
  return card.input.layout === 'NHWC' ? [h, w, c] : [c, h, w];
}

/** Decodes and preprocesses one file as the card says. */
export async function tensorOf(file: string, card: ModelCard): Promise<ImageTensor> {
  let p: Awaited<ReturnType<typeof preprocess>>;
  try {
    p = await preprocess(await decodeImage(await readFile(file)), card);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const [h, w] = card.input.size;
  return {
    data: p.tensor,
    channels: card.input.channels,
    height: h,
    width: w,
    layout: card.input.layout,
  };
}

function stack(ts: ImageTensor[]) {
  const t = ts[0];
  const dims =
    t.layout === 'NHWC'
      ? [ts.length, t.height, t.width, t.channels]
      : [ts.length, t.channels, t.height, t.width];
  return { data: concat(ts.map((x) => x.data)), dims };
}

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
