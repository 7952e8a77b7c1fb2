// The rest of the CAM family against PyTorch references (test/reference/camflow_ref/more_methods.py).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type ExplainOptions } from '@camflow/engine';
import { npyToFloat32, readNpy } from '@camflow/imaging';
import { afterAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '../../../test/fixtures/goldens');
interface Entry {
  model: string;
  onnx: string;
  input: string;
  layer: string;
  fuse: string[];
  targets: number[];
  files: Record<string, string>;
  guidedBlock: number;
  guidedShape: number[];
}
const doc = JSON.parse(readFileSync(join(root, 'methods.json'), 'utf8')) as { models: Entry[] };
const npy = (p: string) => npyToFloat32(readNpy(new Uint8Array(readFileSync(join(root, p)))));
const open: Engine[] = [];
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});

/** Each golden and the options that ask the engine for it. */
const CASES: [string, (e: Entry) => ExplainOptions, 'normalised' | 'absolute'][] = [
  ['eigengradcam', () => ({ method: 'eigengradcam' }), 'normalised'],
  ['gradcamelementwise', () => ({ method: 'gradcamelementwise' }), 'normalised'],
  ['gradcam-eigensmooth', () => ({ method: 'gradcam', eigenSmooth: true }), 'normalised'],
  ['scorecam', () => ({ method: 'scorecam' }), 'normalised'],
  ['ablationcam', () => ({ method: 'ablationcam' }), 'normalised'],
  // Already scaled to [0, 1] by the method: compared as they are.
  ['gradcam-augsmooth', () => ({ augSmooth: true }), 'absolute'],
  ['gradcam-fusion', (e) => ({ layer: e.fuse }), 'absolute'],
];

function worstDiff(a: Float32Array, b: Float32Array, per: number, normalise: boolean): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let o = 0; o < a.length; o += per) {
    const ma = normalise ? Math.max(...a.subarray(o, o + per), 1e-12) : 1;
    const mb = normalise ? Math.max(...b.subarray(o, o + per), 1e-12) : 1;
    for (let i = o; i < o + per; i++) worst = Math.max(worst, Math.abs(a[i] / ma - b[i] / mb));
  }
  return worst;
}

describe.each(doc.models)('$model', (entry) => {
  const engine = Engine.load(new Uint8Array(readFileSync(join(root, entry.onnx))));
  open.push(engine);
  const x = npy(entry.input);
  const batch = { data: x.data, dims: x.shape };

  test.each(CASES)('%s matches the PyTorch reference', async (key, options, compare) => {
    const file = entry.files[key];
    expect(existsSync(join(root, file))).toBe(true);
    let golden = npy(file);
    let input = batch;
    let targets = entry.targets;
    if (key === 'scorecam' && entry.model === 'xray') {
      // One forward per channel per image (128 at 256x256): the first image keeps the test short.
      const per = x.data.length / x.shape[0];
      input = { data: x.data.subarray(0, per), dims: [1, ...x.shape.slice(1)] };
      const area = golden.shape[1] * golden.shape[2];
      golden = { data: golden.data.subarray(0, area), shape: [1, ...golden.shape.slice(1)] };
      targets = targets.slice(0, 1);
    }
    const r = await engine.explain(input, { layer: entry.layer, ...options(entry) });
    expect(r.targets).toEqual(targets);
    expect(r.cams.dims).toEqual(golden.shape);
    const per = golden.shape[1] * golden.shape[2];
    expect(worstDiff(r.cams.data, golden.data, per, compare === 'normalised')).toBeLessThan(1e-3);
  });

  test('guided-gradcam: guided backpropagation times the map, block sums match', async () => {
    const r = await engine.explain(batch, { layer: entry.layer, method: 'guided-gradcam' });
    const guided = r.guided;
    expect(guided?.dims).toEqual(entry.guidedShape);
    const golden = npy(entry.files['guided-gradcam']);
    const [n, c, h, w] = entry.guidedShape;
    const s = entry.guidedBlock;
    const sums = new Float32Array(golden.data.length);
    const data = guided?.data as Float32Array;
    for (let i = 0; i < n * c; i++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          sums[(i * (h / s) + Math.floor(y / s)) * (w / s) + Math.floor(xx / s)] +=
            data[(i * h + y) * w + xx];
    const scale = Math.max(...Array.from(golden.data, Math.abs));
    let worst = 0;
    sums.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - golden.data[i]) / scale);
    });
    expect(worst).toBeLessThan(1e-3);
  });
});
