// Parity with the seed method: goldens written by test/reference (PyTorch hooks, float64).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CamMethod, Engine } from '@camflow/engine';
import { npyToFloat32, readNpy } from '@camflow/imaging';
import { afterAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '../../../test/fixtures/goldens');
interface Case {
  name: string;
  dir: string;
  target: 'predicted' | number | 'all';
  score: 'output' | 'logit';
  methods: string[];
}
interface GoldenModel {
  name: string;
  onnx: string;
  input: string;
  layer: string;
  layerTensorShape: number[];
  /** How the stored A and G were made [N, C, h, w] from the hooked tensor (pytorch-grad-cam's reshape_transform). */
  transform?: 'nhwc' | 'tokens';
  cases: Case[];
}
const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as {
  models: GoldenModel[];
};
const npy = (path: string) => npyToFloat32(readNpy(new Uint8Array(readFileSync(join(root, path)))));
const methodOf = (file: string) => (file === 'gradcampp' ? 'gradcam++' : file) as CamMethod;

/** max |a/max(a) - b/max(b)|: the CAM after the seed's normalisation. */
function normalisedDiff(a: Float32Array, b: Float32Array, per: number): number {
  let worst = 0;
  for (let o = 0; o < a.length; o += per) {
    const ma = Math.max(...a.subarray(o, o + per), 1e-12);
    const mb = Math.max(...b.subarray(o, o + per), 1e-12);
    for (let i = o; i < o + per; i++) worst = Math.max(worst, Math.abs(a[i] / ma - b[i] / mb));
  }
  return worst;
}

/** Relative error of each image's score vector (max-norm), the worst over images. */
function relDiff(a: Float32Array, b: Float32Array, k: number): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let o = 0; o < b.length; o += k) {
    const scale = Math.max(...Array.from(b.subarray(o, o + k), Math.abs), 1e-6);
    for (let i = o; i < o + k; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  return worst;
}

const engines: Engine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

describe.each(index.models)('$name at $layer', (model) => {
  const engine = Engine.load(new Uint8Array(readFileSync(join(root, model.onnx))));
  engines.push(engine);
  const input = npy(model.input);

  const single = model.cases.filter((c) => c.target !== 'all');
  const many = model.cases.filter((c) => c.target === 'all');

  describe.each(many)('$name', (c) => {
    test.each(c.methods)(
      '%s: every class, in one pass, matches the seed run once per class',
      async (file) => {
        const r = await engine.explain(
          { data: input.data, dims: input.shape },
          { layer: model.layer, method: methodOf(file), targets: 'all', score: c.score },
        );
        const scores = npy(`${c.dir}/scores.npy`);
        expect(relDiff(r.scores, scores.data, r.numClasses)).toBeLessThan(1e-4);
        const golden = npy(`${c.dir}/cam_${file}.npy`);
        expect(r.perTarget?.batched).toBe(true);
        expect(r.perTarget?.cams.dims).toEqual(golden.shape);
        const per = golden.shape[2] * golden.shape[3];
        expect(
          normalisedDiff(r.perTarget?.cams.data as Float32Array, golden.data, per),
        ).toBeLessThan(1e-3);
      },
    );
  });

  describe.each(single)('$name', (c) => {
    test.each(c.methods)('%s matches the seed', async (file) => {
      const r = await engine.explain(
        { data: input.data, dims: input.shape },
        { layer: model.layer, method: methodOf(file), target: c.target, score: c.score },
      );
      const scores = npy(`${c.dir}/scores.npy`);
      expect(relDiff(r.scores, scores.data, r.numClasses)).toBeLessThan(1e-4);
      const targets = readNpy(new Uint8Array(readFileSync(join(root, c.dir, 'targets.npy'))));
      expect(r.targets).toEqual(Array.from(targets.data as BigInt64Array, Number));
      const golden = npy(`${c.dir}/cam_${file}.npy`);
      expect(r.cams.dims).toEqual(golden.shape);
      const per = golden.shape[1] * golden.shape[2];
      expect(normalisedDiff(r.cams.data, golden.data, per)).toBeLessThan(1e-3);
    });

    test('hooks capture the seed activations and gradients', async () => {
      if (c.methods.length === 0) return;
      let acts: Float32Array | undefined;
      let grads: Float32Array | undefined;
      const f = engine.registerForwardHook(model.layer, (e) => {
        acts = e.tensor.data;
      });
      const b = engine.registerBackwardHook(model.layer, (e) => {
        grads = e.tensor.data;
      });
      try {
        await engine.run(
          { data: input.data, dims: input.shape },
          { target: c.target, score: c.score },
        );
      } finally {
        f.remove();
        b.remove();
      }
      const a = npy(`${c.dir}/activations.npy`);
      const g = npy(`${c.dir}/gradients.npy`);
      // The hooks see the raw tensor, as PyTorch's do; the goldens store it as [N, C, h, w].
      const nchw = (t: Float32Array) => toNchw(t, model.layerTensorShape, model.transform);
      expect(relDiffScaled(nchw(acts as Float32Array), a.data)).toBeLessThan(1e-3);
      expect(relDiffScaled(nchw(grads as Float32Array), g.data)).toBeLessThan(1e-3);
    });
  });
});

/**
 * pytorch-grad-cam's reshape_transform, written out: NHWC permuted to NCHW; ViT tokens without
 * the class token folded to the square patch grid. Independent of the engine's own layouts.
 */
function toNchw(t: Float32Array, shape: number[], transform?: 'nhwc' | 'tokens'): Float32Array {
  if (!transform) return t;
  const out = new Float32Array(t.length);
  if (transform === 'nhwc') {
    const [n, h, w, c] = shape;
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < c; k++)
            out[((i * c + k) * h + y) * w + x] = t[((i * h + y) * w + x) * c + k];
    return out;
  }
  const [n, tokens, c] = shape;
  const side = Math.round(Math.sqrt(tokens - 1));
  const grid = side * side;
  const res = new Float32Array(n * c * grid);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < grid; p++)
      for (let k = 0; k < c; k++) res[(i * c + k) * grid + p] = t[(i * tokens + 1 + p) * c + k];
  return res;
}

/** max |a - b| relative to max |b|: float32 vs float64 reference. */
function relDiffScaled(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}
