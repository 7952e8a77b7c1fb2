import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, InputShapeError } from '@camflow/engine';
import { npyToFloat32 } from '@camflow/imaging';
import {
  buildXRayClassifier,
  encodeModel,
  floatTensor,
  int64Tensor,
  makeModel,
  valueInfo,
} from '@camflow/onnx';
import { afterAll, describe, expect, test } from 'vitest';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
const load = (name: string) =>
  Engine.load(new Uint8Array(readFileSync(join(goldens, name, 'model.onnx'))));
const input = (name: string) => {
  const a = npyToFloat32(new Uint8Array(readFileSync(join(goldens, name, 'input.npy'))));
  return { data: a.data, dims: a.shape };
};
const open: Engine[] = [];
const track = (e: Engine) => {
  open.push(e);
  return e;
};
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});

describe('hooks', () => {
  test('forward and backward hooks fire on run(); remove() restores the plain model', async () => {
    const engine = track(load('resnet'));
    const x = input('resnet');
    const seen: string[] = [];
    const fwd = engine.registerForwardHook('layer4', (e) =>
      seen.push(`fwd ${e.layer} ${e.tensor.dims.join('x')}`),
    );
    const bwd = engine.registerBackwardHook('layer4', (e) =>
      seen.push(`bwd ${e.layer} ${e.tensor.dims.join('x')}`),
    );
    const withHooks = await engine.run(x);
    expect(seen).toEqual(['fwd layer4 3x64x3x3', 'bwd layer4 3x64x3x3']);
    fwd.remove();
    bwd.remove();
    bwd.remove(); // safe twice
    const plain = await engine.run(x);
    expect(seen).toHaveLength(2);
    expect(Array.from(plain.scores)).toEqual(Array.from((await engine.predict(x)).scores));
    for (let i = 0; i < plain.scores.length; i++)
      expect(withHooks.scores[i]).toBeCloseTo(plain.scores[i], 5);
  });

  test('hooks on an unknown layer throw at registration', () => {
    const engine = track(load('resnet'));
    expect(() => engine.registerForwardHook('layer9', () => {})).toThrow(/unknown layer "layer9"/);
  });
});

describe('explain', () => {
  test('CAMs are per image: a batch equals each image alone', async () => {
    const engine = track(load('resnet'));
    const x = input('resnet');
    const batch = await engine.explain(x, { layer: 'layer4' });
    const per = x.data.length / 3;
    for (let i = 0; i < 3; i++) {
      const one = await engine.explain(
        { data: x.data.subarray(i * per, (i + 1) * per), dims: [1, 3, 96, 96] },
        { layer: 'layer4' },
      );
      expect(one.targets[0]).toBe(batch.targets[i]);
      const area = one.cams.data.length;
      one.cams.data.forEach((v, j) => {
        expect(batch.cams.data[i * area + j]).toBeCloseTo(v, 5);
      });
    }
  });

  test("results carry the layer's receptive-field grid, derived from the graph", async () => {
    const engine = track(Engine.load(encodeModel(buildXRayClassifier({ nf: 2, size: 64 }))));
    const x = { data: new Float32Array(2 * 3 * 64 * 64).fill(0.1), dims: [2, 3, 64, 64] };
    const last = await engine.explain(x);
    expect(last.layer).toBe('resnet_blocks.4');
    expect(last.grid).toEqual({ origin: [0, 0], stride: [32, 32] });
    const finer = await engine.explain(x, { layer: 'resnet_blocks.3' });
    expect(finer.cams.dims).toEqual([2, 4, 4]);
    expect(finer.grid).toEqual({ origin: [0, 0], stride: [16, 16] });
    expect(engine.cellGrid('resnet_blocks.1')).toEqual({ origin: [0, 0], stride: [4, 4] });
  });

  test('a one-hot weight target equals the class index target; per-image targets work', async () => {
    const engine = track(load('resnet'));
    const x = input('resnet');
    const byIndex = await engine.explain(x, { layer: 'layer4', target: [1, 2, 3] });
    const oneHot = (k: number) => Float32Array.from({ length: 5 }, (_, j) => (j === k ? 1 : 0));
    const byWeights = await engine.explain(x, {
      layer: 'layer4',
      target: [oneHot(1), oneHot(2), oneHot(3)],
    });
    expect(byIndex.targets).toEqual([1, 2, 3]);
    expect(byWeights.targets).toEqual([-1, -1, -1]);
    byIndex.cams.data.forEach((v, j) => {
      expect(byWeights.cams.data[j]).toBeCloseTo(v, 5);
    });
  });

  test('splitting into micro-batches changes nothing', async () => {
    const x = input('mobilenet');
    const whole = await track(load('mobilenet')).explain(x, {
      layer: 'features.18',
      method: 'layercam',
    });
    const split = await track(
      Engine.load(new Uint8Array(readFileSync(join(goldens, 'mobilenet/model.onnx'))), {
        maxBatch: 2,
      }),
    ).explain(x, { layer: 'features.18', method: 'layercam' });
    whole.cams.data.forEach((v, j) => {
      expect(split.cams.data[j]).toBeCloseTo(v, 5);
    });
  });

  test.each([
    ['xray', 'resnet_blocks.4'],
    ['resnet', 'layer4.0'],
    ['mobilenet', 'features.18'],
  ])('the default layer of %s is %s', async (name, layer) => {
    const engine = track(load(name));
    expect((await engine.defaultLayer()).name).toBe(layer);
    expect((await engine.explain(input(name))).layer).toBe(layer);
  });

  test('bad targets and shapes are clear errors', async () => {
    const engine = track(load('resnet'));
    const x = input('resnet');
    await expect(engine.explain(x, { layer: 'layer4', target: 5 })).rejects.toThrow(
      /target 5 is not a class index in \[0, 4\]/,
    );
    await expect(engine.explain(x, { layer: 'layer4', target: [1] })).rejects.toThrow(
      InputShapeError,
    );
    await expect(
      engine.explain({ data: x.data, dims: [3, 3, 96] }, { layer: 'layer4' }),
    ).rejects.toThrow(/does not fit the model's input \[N, 3, 96, 96\]/);
    await expect(engine.explain(x, { layer: 'layer4', score: 'logit' })).rejects.toThrow(
      /needs a model whose output comes from Softmax, Sigmoid or LogSoftmax \(it comes from Gemm\)/,
    );
  });
});

describe('models', () => {
  test('an export that fixes batch 1 in a Reshape still explains batches, one image at a time', async () => {
    const model = makeModel({
      opset: 13,
      inputs: [valueInfo('x', [1, 2, 4, 4])],
      outputs: [valueInfo('y', [1, 3])],
      initializers: [
        floatTensor(
          'w',
          [2, 2, 3, 3],
          Array.from({ length: 36 }, (_, i) => Math.cos(i)),
        ),
        int64Tensor('shape', [2], [1, 2]),
        floatTensor('fc', [2, 3], [1, -1, 0.5, 0.3, 0.2, -0.7]),
      ],
      nodes: [
        { name: '/features/Conv', opType: 'Conv', input: ['x', 'w'], output: ['c'], attribute: [] },
        { name: '/features/Relu', opType: 'Relu', input: ['c'], output: ['h'] },
        {
          name: '/pool/GlobalAveragePool',
          opType: 'GlobalAveragePool',
          input: ['h'],
          output: ['p'],
        },
        { name: '/Reshape', opType: 'Reshape', input: ['p', 'shape'], output: ['f'] },
        { name: '/fc/MatMul', opType: 'MatMul', input: ['f', 'fc'], output: ['y'] },
      ],
    });
    const engine = track(Engine.load(encodeModel(model)));
    const data = Float32Array.from({ length: 3 * 32 }, (_, i) => Math.sin(i * 0.7));
    const all = await engine.explain({ data, dims: [3, 2, 4, 4] }, { layer: 'features' });
    const second = await engine.explain(
      { data: data.subarray(32, 64), dims: [1, 2, 4, 4] },
      { layer: 'features' },
    );
    expect(all.cams.dims).toEqual([3, 2, 2]);
    second.cams.data.forEach((v, j) => {
      expect(all.cams.data[4 + j]).toBeCloseTo(v, 5);
    });
    expect((await engine.predict({ data, dims: [3, 2, 4, 4] })).scores).toHaveLength(9);
  });

  test('an unavailable execution provider falls back to CPU with a warning', async () => {
    const warnings: string[] = [];
    const bytes = encodeModel(buildXRayClassifier({ nf: 2, size: 64 }));
    const engine = track(
      Engine.load(bytes, { executionProvider: 'cuda', logger: { warn: (m) => warnings.push(m) } }),
    );
    const r = await engine.predict({
      data: new Float32Array(3 * 64 * 64).fill(0.1),
      dims: [1, 3, 64, 64],
    });
    expect(r.scores).toHaveLength(1);
    expect(warnings.join('\n')).toMatch(/execution provider "cuda" is unavailable .*; using cpu/);
  });
});
