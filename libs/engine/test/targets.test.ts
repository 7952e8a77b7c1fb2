// Many targets per image: one pass over a copied head, checked against one target at a time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type ExplainResult, InputShapeError } from '@camflow/engine';
import { npyToFloat32 } from '@camflow/imaging';
import { afterAll, describe, expect, test } from 'vitest';
import { inputOf, TinyModel } from './support/tiny-model.js';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
const open: Engine[] = [];
const track = (e: Engine) => {
  open.push(e);
  return e;
};
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});
const golden = (name: string) => {
  const a = npyToFloat32(new Uint8Array(readFileSync(join(goldens, name, 'input.npy'))));
  return {
    engine: track(Engine.load(new Uint8Array(readFileSync(join(goldens, name, 'model.onnx'))))),
    x: { data: a.data, dims: a.shape },
  };
};

/** Target k's maps of a many-target result, [N, h, w]. */
function slice(r: ExplainResult, k: number): Float32Array {
  const t = r.perTarget;
  if (!t) throw new Error('no perTarget');
  const [n, count, h, w] = t.cams.dims;
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++)
    out.set(t.cams.data.subarray((i * count + k) * h * w, (i * count + k + 1) * h * w), i * h * w);
  return out;
}

function expectSameMaps(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  const scale = Math.max(...b, 1e-9);
  let worst = 0;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b[i]) / scale);
  });
  expect(worst).toBeLessThan(1e-4);
}

describe('explain with several targets', () => {
  test.each(['gradcam', 'gradcam++', 'xgradcam', 'hirescam', 'layercam'] as const)(
    'every class at once equals each class alone (%s, ResNet)',
    async (method) => {
      const { engine, x } = golden('resnet');
      const r = await engine.explain(x, { layer: 'layer4', method, targets: 'all' });
      const t = r.perTarget;
      expect(t?.batched).toBe(true);
      expect(t?.count).toBe(5);
      expect(t?.cams.dims).toEqual([3, 5, 3, 3]);
      expect(t?.classes).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
      for (let k = 0; k < 5; k++) {
        const alone = await engine.explain(x, { layer: 'layer4', method, target: k });
        expectSameMaps(slice(r, k), alone.cams.data);
        for (let i = 0; i < 3; i++)
          expect(t?.scores[i * 5 + k]).toBeCloseTo(alone.scores[i * 5 + k], 6);
      }
      // `cams` and `targets` keep the first target's.
      expect(r.targets).toEqual([0, 0, 0]);
      expectSameMaps(r.cams.data, slice(r, 0));
    },
  );

  test('top-k ranks each image by its own scores; a list keeps its order; logit scores work', async () => {
    const { engine, x } = golden('resnet_softmax');
    const top = await engine.explain(x, {
      layer: 'net.layer4',
      targets: { top: 2 },
      score: 'logit',
    });
    const predicted = await engine.explain(x, { layer: 'net.layer4', score: 'logit' });
    for (let i = 0; i < 3; i++) {
      const s = Array.from(top.scores.subarray(i * 5, i * 5 + 5));
      const order = s.map((_, j) => j).sort((a, b) => s[b] - s[a]);
      expect(top.perTarget?.classes.slice(i * 2, i * 2 + 2)).toEqual(order.slice(0, 2));
    }
    expect(top.targets).toEqual(predicted.targets);
    expectSameMaps(top.cams.data, predicted.cams.data);
    const list = await engine.explain(x, { layer: 'net.layer4', targets: [4, 1] });
    expect(list.perTarget?.classes.slice(0, 2)).toEqual([4, 1]);
    expectSameMaps(
      slice(list, 1),
      (await engine.explain(x, { layer: 'net.layer4', target: 1 })).cams.data,
    );
  });

  test('a head whose reshape bakes in the batch size from the input: one target at a time, same maps, a warning', async () => {
    const m = new TinyModel();
    const conv = m.op('features', 'Relu', [
      m.op('features', 'Conv', ['x', m.rand([4, 3, 3, 3])], { pads: [1, 1, 1, 1] }),
    ]);
    const pooled = m.op('head', 'GlobalAveragePool', [conv]);
    // The batch size read from the input (not from the layer): a copied head cannot follow it.
    const n = m.op('head', 'Slice', [m.op('head', 'Shape', ['x']), m.ints([0]), m.ints([1])]);
    const flat = m.op('head', 'Reshape', [
      pooled,
      m.op('head', 'Concat', [n, m.ints([-1])], { axis: 0 }),
    ]);
    const y = m.op('head', 'MatMul', [flat, m.rand([4, 3], 1)]);
    const warnings: string[] = [];
    const engine = track(
      Engine.load(m.bytes([3, 6, 6], y), { logger: { warn: (w) => warnings.push(w) } }),
    );
    const x = inputOf([2, 3, 6, 6]);
    const r = await engine.explain(x, { layer: 'features', targets: 'all' });
    expect(r.perTarget?.batched).toBe(false);
    expect(warnings.join()).toMatch(/3 targets run one at a time for layer "features"/);
    for (let k = 0; k < 3; k++) {
      expectSameMaps(
        slice(r, k),
        (await engine.explain(x, { layer: 'features', target: k })).cams.data,
      );
    }
  });

  test('eigen-smooth and Score-CAM with several targets equal each target alone', async () => {
    const { engine, x } = golden('resnet');
    for (const opts of [
      { method: 'gradcam', eigenSmooth: true },
      { method: 'scorecam' },
    ] as const) {
      const r = await engine.explain(x, { layer: 'layer4', ...opts, targets: [2, 3] });
      for (const [k, target] of [2, 3].entries()) {
        expectSameMaps(
          slice(r, k),
          (await engine.explain(x, { layer: 'layer4', ...opts, target })).cams.data,
        );
      }
    }
  });

  test('Ablation-CAM where the head cannot be copied: the whole model is, same maps as the formula', async () => {
    // The head reads the batch size from the input (not from the layer): only a whole-model copy
    // can run it. The reference zeroes each channel in a rebuilt model and applies the formula.
    const build = (zeroed?: number) => {
      const m = new TinyModel();
      const conv = m.op('features', 'Relu', [
        m.op('features', 'Conv', ['x', m.rand([4, 3, 3, 3])], { pads: [1, 1, 1, 1] }),
      ]);
      const kept =
        zeroed === undefined
          ? conv
          : m.op('cut', 'Mul', [
              conv,
              m.floatsOf(
                [0, 1, 2, 3].map((c) => (c === zeroed ? 0 : 1)),
                [1, 4, 1, 1],
              ),
            ]);
      const pooled = m.op('head', 'GlobalAveragePool', [kept]);
      const n = m.op('head', 'Slice', [m.op('head', 'Shape', ['x']), m.ints([0]), m.ints([1])]);
      const flat = m.op('head', 'Reshape', [
        pooled,
        m.op('head', 'Concat', [n, m.ints([-1])], { axis: 0 }),
      ]);
      return m.bytes([3, 6, 6], m.op('head', 'MatMul', [flat, m.rand([4, 3], 1)]));
    };
    const x = inputOf([2, 3, 6, 6]);
    const engine = track(Engine.load(build()));
    const r = await engine.explain(x, { layer: 'features', method: 'ablationcam' });
    let acts: Float32Array | undefined;
    const hook = engine.registerForwardHook('features', (e) => {
      acts = e.tensor.data;
    });
    const plain = await engine.run(x);
    hook.remove();
    const cams = new Float32Array(2 * 36);
    for (let k = 0; k < 4; k++) {
      const cut = await track(Engine.load(build(k))).predict(x);
      for (let i = 0; i < 2; i++) {
        const t = r.targets[i];
        const y = plain.scores[i * 3 + t];
        const w = (y - cut.scores[i * 3 + t]) / y;
        for (let p = 0; p < 36; p++)
          cams[i * 36 + p] += w * (acts as Float32Array)[(i * 4 + k) * 36 + p];
      }
    }
    expectSameMaps(
      r.cams.data,
      cams.map((v) => Math.max(v, 0)),
    );
  });

  test('EigenCAM does not depend on the target: the same map for each', async () => {
    const { engine, x } = golden('resnet');
    const r = await engine.explain(x, { layer: 'layer4', method: 'eigencam', targets: [1, 2] });
    expectSameMaps(slice(r, 1), slice(r, 0));
  });

  test('bad targets are InputShapeErrors', async () => {
    const { engine, x } = golden('resnet');
    await expect(engine.explain(x, { layer: 'layer4', targets: [1, 9] })).rejects.toThrow(
      InputShapeError,
    );
    await expect(engine.explain(x, { layer: 'layer4', targets: { top: 6 } })).rejects.toThrow(
      /top 6: the model has 5 classes/,
    );
  });
});
