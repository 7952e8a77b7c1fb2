import { concat } from './arrays.js';
import { needsGradient, targetFree } from './cam-graph.js';
import {
  CAM_WEIGHTED,
  CHECKED_SCORES,
  REPLICA_SCORES,
  TARGET_INPUT,
  TARGET_OUTPUT,
} from './compile.js';
import type { CamRequest, EngineCore } from './core.js';
import { eigenCams } from './eigencam.js';
import type { Batch, ExplainOptions, ExplainResult, TensorView } from './engine.js';
import { CompileError, InputShapeError } from './errors.js';
import { floatInput, ort, runSession } from './runtime.js';
import { checkReplica, resolveRow, type Targets, targetRow } from './targets.js';

/**
 * K maps per image. Gradient methods compile one graph that copies the head onto K repeats of
 * each image and differentiates all K targets at once; the copy's scores are checked against
 * the model's on every run. Where that graph cannot be built or fails its check, the targets
 * run one at a time (same maps, K backward passes), with a warning.
 */
export async function explainMany(
  core: EngineCore,
  batch: Batch,
  opts: ExplainOptions,
  cam: CamRequest,
): Promise<ExplainResult> {
  const sample = batch.dims.slice(1);
  const numClasses = await classCount(core, sample);
  const row = targetRow(opts.targets as Targets, numClasses);
  const single = { ...opts, targets: undefined };
  const key = JSON.stringify([sample, cam.layer.tensor, cam.method, row.length, opts.score]);
  if (row.length > 1 && needsGradient(cam.method) && !core.unbatchable.has(key)) {
    try {
      return await explainBatched(core, batch, opts, cam, row, numClasses);
    } catch (err) {
      if (err instanceof InputShapeError) throw err;
      core.unbatchable.add(key);
      (
        core.options.logger ?? {
          warn: (m: string) => process.stderr.write(`camflow: warning: ${m}\n`),
        }
      ).warn(
        `${row.length} targets run one at a time for layer "${cam.layer.name}" (${firstLine(err)})`,
      );
    }
  }
  // One target at a time; ranks are resolved against each image's scores first.
  const first = await core.explain(batch, {
    ...single,
    target: row[0] >= 0 ? row[0] : 'predicted',
  });
  const n = batch.dims[0];
  const classes = Array.from({ length: n }, (_, i) => resolveRow(row, first.scores, i, numClasses));
  const maps: ExplainResult[] = [];
  for (let k = 0; k < row.length; k++) {
    const target = classes.map((c) => c[k]);
    // Row 0 is a class or -1 (the predicted one): `first` already holds it. EigenCAM ignores targets.
    const same = k === 0 || targetFree(cam.method);
    maps.push(same ? first : await core.explain(batch, { ...single, target }));
  }
  const [, h, w] = first.cams.dims;
  const area = h * w;
  const all = new Float32Array(n * row.length * area);
  maps.forEach((m, k) => {
    for (let i = 0; i < n; i++) {
      all.set(m.cams.data.subarray(i * area, (i + 1) * area), (i * row.length + k) * area);
    }
  });
  return withTargets(
    first,
    classes.flat(),
    row.length,
    { data: all, dims: [n, row.length, h, w] },
    // EigenCAM needs one run whatever the targets; the others ran one target at a time.
    targetFree(cam.method),
  );
}

async function explainBatched(
  core: EngineCore,
  batch: Batch,
  opts: ExplainOptions,
  cam: CamRequest,
  row: number[],
  numClasses: number,
): Promise<ExplainResult> {
  const k = row.length;
  const { graph, session, batchable } = await core.compile(batch.dims.slice(1), {
    activations: [],
    gradients: [],
    cam: {
      tensor: cam.layer.tensor,
      method: cam.method,
      view: cam.view,
      eigenSmooth: cam.eigenSmooth,
    },
    targetMode: 'index',
    score: opts.score ?? 'output',
    layerName: cam.layer.name,
    targetCount: k,
  });
  // The map, or (eigen-smooth, EigenGradCAM) the weighted activations to project.
  const camName = graph.cam as string;
  const names = [graph.scores, TARGET_OUTPUT, camName, REPLICA_SCORES, CHECKED_SCORES];
  const parts = new Map<string, Float32Array[]>(names.map((x) => [x, []]));
  const classes: number[] = [];
  let camDims: number[] = [];
  for (const chunk of core.chunks(batch, batchable)) {
    const n = chunk.dims[0];
    const feeds: Record<string, ort.Tensor> = {
      [core.prepared.inputName]: floatInput(chunk.data, chunk.dims),
      [TARGET_INPUT]: int64Matrix(row, n),
    };
    const out = await runSession(session.session, feeds, names);
    checkReplica(
      Float32Array.from(out[REPLICA_SCORES].data as Float32Array),
      Float32Array.from(out[CHECKED_SCORES].data as Float32Array),
      n,
      k,
    );
    for (const v of out[TARGET_OUTPUT].data as BigInt64Array) classes.push(Number(v));
    for (const name of [graph.scores, camName]) {
      (parts.get(name) as Float32Array[]).push(Float32Array.from(out[name].data as Float32Array));
    }
    camDims = [...out[camName].dims];
  }
  const n = batch.dims[0];
  const scores = concat(parts.get(graph.scores) as Float32Array[]);
  let maps = concat(parts.get(camName) as Float32Array[]);
  if (camName === CAM_WEIGHTED) {
    const projectedMaps = eigenCams({ data: maps, dims: [n * k, ...camDims.slice(1)] });
    maps = projectedMaps.data;
    camDims = projectedMaps.dims;
  }
  const [, h, w] = camDims;
  const firstMaps = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++)
    firstMaps.set(maps.subarray(i * k * h * w, (i * k + 1) * h * w), i * h * w);
  const firstTargets = Array.from({ length: n }, (_, i) => classes[i * k]);
  const grid = cam.view.layout === 'nchw' ? core.cellGrid(cam.layer) : undefined;
  const first: ExplainResult = {
    scores,
    numClasses,
    targets: firstTargets,
    layer: cam.layer.name,
    method: cam.method,
    layout: cam.view.layout,
    cams: { data: firstMaps, dims: [n, h, w] },
    ...(grid && { grid }),
  };
  return withTargets(first, classes, k, { data: maps, dims: [n, k, h, w] }, true);
}

/** The first target's result with every target's maps and scores attached. */
function withTargets(
  first: ExplainResult,
  classes: number[],
  count: number,
  cams: TensorView,
  batched: boolean,
): ExplainResult {
  const k = first.numClasses;
  const scores = Float32Array.from(classes, (c, j) => first.scores[Math.floor(j / count) * k + c]);
  return { ...first, perTarget: { count, classes, scores, cams, batched } };
}

/** Classes in the model's output, from a probe of its shape. */
async function classCount(core: EngineCore, sample: number[]): Promise<number> {
  const probe = await core.probe(sample, [core.prepared.outputName]);
  const shape = probe.tensors.get(core.prepared.outputName)?.shape ?? [];
  const k = shape.slice(1).reduce((a, d) => a * d, 1);
  if (!(k > 0)) throw new CompileError('the model output has a dynamic class dimension');
  return k;
}

/** int64 [n, K]: the same target row for every image. */
function int64Matrix(row: number[], n: number): ort.Tensor {
  const data = new BigInt64Array(n * row.length);
  for (let i = 0; i < n; i++)
    row.forEach((t, j) => {
      data[i * row.length + j] = BigInt(t);
    });
  return new ort.Tensor('int64', data, [n, row.length]);
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}
