import { argmaxRows, concat } from './arrays.js';
import { CAM_ACTIVATIONS, tensorsToProbe } from './compile.js';
import type { CamRequest, EngineCore } from './core.js';
import type { Batch, ExplainOptions, ExplainResult, RunOptions } from './engine.js';
import { CompileError, InputShapeError } from './errors.js';
import { CHANNELS_INPUT, compileMasked, MASKED_SCORES } from './masked.js';
import { createSession, floatInput, int64Input, type ort, runSession } from './runtime.js';

/**
 * Score-CAM and Ablation-CAM: per image, one masked forward per channel, B channels per ORT
 * call (see compileMasked). Ablation copies only the head after the layer where it can: each
 * call carries one unablated copy, whose score must be the model's, else the whole model is
 * copied instead.
 */
export async function explainMasked(
  core: EngineCore,
  batch: Batch,
  opts: ExplainOptions,
  cam: CamRequest,
): Promise<ExplainResult> {
  const sample = batch.dims.slice(1);
  const { channels, height, width } = cam.view;
  const ablation = cam.method === 'ablationcam';
  const images = Math.min(batch.dims[0], core.options.maxBatch ?? 32);
  // Copies per ORT call: Score-CAM copies the whole model (maxBatch images in all); an
  // ablation copies the head only, so all channels fit unless the layer is large (2^24 floats).
  const fit = ablation
    ? Math.floor(2 ** 24 / (images * channels * height * width))
    : Math.floor((core.options.maxBatch ?? 32) / images);
  const per = Math.max(1, Math.min(channels, opts.channelBatch ?? fit));
  const copies = per + (ablation ? 1 : 0);
  const score = opts.score ?? 'output';
  const key = JSON.stringify([
    'masked',
    sample,
    cam.layer.tensor,
    cam.method,
    cam.view,
    copies,
    score,
  ]);
  const compile = async (replicate: 'head' | 'model') => {
    const probe = await core.probe(
      sample,
      tensorsToProbe(core.prepared, [core.prepared.inputName]),
    );
    const bytes = compileMasked(core.prepared, probe, {
      cam: { tensor: cam.layer.tensor, method: cam.method, view: cam.view },
      score,
      copies,
      replicate,
      inputLayout: cam.view.inputLayout,
    });
    return { session: await createSession(bytes, core.options), batchable: probe.batchable };
  };
  let replicate: 'head' | 'model' = ablation && !core.unbatchable.has(key) ? 'head' : 'model';
  for (;;) {
    const name = `${key}${replicate}`;
    const compiled = core.compiledMasked.get(name) ?? compile(replicate);
    core.compiledMasked.set(name, compiled);
    compiled.catch(() => core.compiledMasked.delete(name));
    const { session, batchable } = await compiled;
    try {
      return await maskedRuns(core, batch, opts, session.session, batchable, { cam, per, copies });
    } catch (err) {
      // A head that cannot be copied (or fails its check): copy the whole model instead.
      if (replicate === 'model' || err instanceof InputShapeError) throw err;
      core.unbatchable.add(key);
      replicate = 'model';
    }
  }
}

/** Runs a masked graph over every channel, B at a time, and weighs the activations. */
async function maskedRuns(
  core: EngineCore,
  batch: Batch,
  opts: ExplainOptions,
  session: ort.InferenceSession,
  batchable: boolean,
  c: { cam: CamRequest; per: number; copies: number },
): Promise<ExplainResult> {
  const { per, copies } = c;
  const { channels } = c.cam.view;
  const ablation = c.cam.method === 'ablationcam';
  const n = batch.dims[0];
  const output = core.prepared.outputName;
  const acts: Float32Array[] = [];
  const scoreParts: Float32Array[] = [];
  let actDims: number[] = [];
  let numClasses = 0;
  const targets: number[] = [];
  // masked[i * channels + k]: image i's target score with channel k masked; base[i] unmasked.
  const masked = new Float32Array(n * channels);
  const base = new Float32Array(n);
  let offset = 0;
  for (const chunk of core.chunks(batch, batchable)) {
    const m = chunk.dims[0];
    for (let k0 = 0; k0 < channels; k0 += per) {
      const idx = Array.from({ length: per }, (_, j) => Math.min(k0 + j, channels - 1));
      if (ablation) idx.push(channels);
      const out = await runSession(
        session,
        {
          [core.prepared.inputName]: floatInput(chunk.data, chunk.dims),
          [CHANNELS_INPUT]: int64Input(idx),
        },
        [output, CAM_ACTIVATIONS, MASKED_SCORES],
      );
      if (k0 === 0) {
        const scores = Float32Array.from(out[output].data as Float32Array);
        numClasses = scores.length / m;
        scoreParts.push(scores);
        const t = Array.isArray(opts.target) ? opts.target.slice(offset, offset + m) : opts.target;
        targets.push(...resolveTargets(t, scores, m, numClasses));
        acts.push(Float32Array.from(out[CAM_ACTIVATIONS].data as Float32Array));
        actDims = [...out[CAM_ACTIVATIONS].dims];
      }
      const s = out[MASKED_SCORES].data as Float32Array;
      const k = s.length / (m * copies);
      for (let i = 0; i < m; i++) {
        const t = targets[offset + i];
        for (let j = 0; j < per && k0 + j < channels; j++) {
          masked[(offset + i) * channels + k0 + j] = s[(i * copies + j) * k + t];
        }
        if (ablation) base[offset + i] = s[(i * copies + per) * k + t];
      }
    }
    offset += m;
  }
  const scores = concat(scoreParts);
  if (ablation && (opts.score ?? 'output') === 'output') {
    // The unablated copy must reproduce the model's score (the copied head is right).
    for (let i = 0; i < n; i++) {
      const want = scores[i * numClasses + targets[i]];
      if (!(Math.abs(base[i] - want) <= 1e-4 * Math.max(1, Math.abs(want)))) {
        throw new CompileError('the copied head does not reproduce the scores');
      }
    }
  }
  const a = concat(acts);
  const [, , h, w] = actDims;
  const area = h * w;
  const cams = new Float32Array(n * area);
  for (let i = 0; i < n; i++) {
    const row = masked.subarray(i * channels, (i + 1) * channels);
    const weights = ablation ? ablationWeights(row, base[i]) : softmax(row);
    for (let k = 0; k < channels; k++) {
      const off = (i * channels + k) * area;
      for (let p = 0; p < area; p++) cams[i * area + p] += weights[k] * a[off + p];
    }
  }
  for (let j = 0; j < cams.length; j++) cams[j] = Math.max(cams[j], 0);
  return {
    scores,
    numClasses,
    targets,
    layer: c.cam.layer.name,
    method: c.cam.method,
    layout: c.cam.view.layout,
    cams: { data: cams, dims: [n, h, w] },
  };
}

/** Score-CAM's weights: a softmax over the channels' scores. */
function softmax(s: Float32Array): Float64Array {
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of s) hi = Math.max(hi, v);
  const e = Float64Array.from(s, (v) => Math.exp(v - hi));
  const total = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / total);
}

/** Ablation-CAM's weights (the paper's): the relative drop of the score, (y - y_k) / y. */
function ablationWeights(ablated: Float32Array, y: number): Float64Array {
  return Float64Array.from(ablated, (v) => (y - v) / y);
}

/** Class per image for a gradient-free method: as asked, or the argmax of the scores. */
function resolveTargets(
  target: RunOptions['target'],
  scores: Float32Array,
  n: number,
  k: number,
): number[] {
  const best = argmaxRows(scores, k);
  return Array.from({ length: n }, (_, i) => {
    const t = Array.isArray(target) ? target[i] : target;
    if (t === undefined || t === 'predicted') return best[i];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= k) {
      throw new InputShapeError(
        `target ${String(t)} is not a class index in [0, ${k - 1}] (weight vectors need a gradient method)`,
      );
    }
    return t;
  });
}
