// Bring your own model: the card checked against its model at push time (the issue-16 exports:
// a 3-class softmax ResNet and a 1-channel 14-label sigmoid ResNet), the pushed name against the
// card's, and the models listed (GET /v1/models, for tokens that may run them).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelKeys } from '@camflow/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type IngestService, listModels, ModelNameMismatchError, pushModel } from '../src/index.js';
import { client, type Env, startEnv, startService, TOKENS } from './helpers.js';

const MODELS = join(import.meta.dirname, '../../../test/fixtures/models');
const tri = {
  onnx: join(MODELS, 'tri-tiny/model.onnx'),
  card: join(MODELS, 'tri-tiny/model.json'),
};
const cxr = {
  onnx: join(MODELS, 'cxr14-tiny/model.onnx'),
  card: join(MODELS, 'cxr14-tiny/model.json'),
};

/** A card as JSON, changed field by field in the cases below. */
type Card = { input: Record<string, unknown>; output: Record<string, unknown> };

let env: Env;
let svc: IngestService;
let dir: string;
beforeAll(async () => {
  env = await startEnv();
  svc = await startService(env, { expansion: false });
  dir = await mkdtemp(join(tmpdir(), 'camflow-byom-'));
});
afterAll(async () => {
  await svc?.close();
  await env?.close();
  await env?.ts.close();
  await rm(dir, { recursive: true, force: true });
});

/** The fixture's card with `change` applied, written to a file. */
async function cardWith(name: string, change: (c: Card) => void): Promise<string> {
  const c = JSON.parse(await readFile(tri.card, 'utf8'));
  change(c);
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(c));
  return path;
}

describe('models push checks the card against the model', () => {
  test('each contradiction refused with both sides named; nothing is stored', async () => {
    const cases: [string, (c: Card) => void, RegExp][] = [
      [
        'two.json',
        (c) => {
          c.output.classes = ['normal', 'pneumonia'];
        },
        /output\.classes: the card names 2 classes, but the model's output "output" is \[N, 3\]: 3 scores/,
      ],
      [
        'grey.json',
        (c) => {
          c.input = { ...c.input, channels: 1, mean: 0.5, std: 0.25 };
        },
        /input\.channels: the card says 1, but the model's input "input" is \[N, 3, 224, 224\]: it takes 3/,
      ],
      [
        'size.json',
        (c) => {
          c.input.size = 256;
        },
        /input\.size: the card says 256x256 .*: it takes 224x224/,
      ],
      [
        'nhwc.json',
        (c) => {
          c.input.layout = 'NHWC';
        },
        /input\.layout: the card says NHWC .*set "layout": "NCHW"/,
      ],
      [
        'sigmoid.json',
        (c) => {
          c.output.activation = 'sigmoid';
        },
        /output\.activation: the card says sigmoid, but the model's output "output" comes from a Softmax/,
      ],
    ];
    for (const [file, change, message] of cases) {
      await expect(
        pushModel(env.ts.store, env.ts.config, {
          onnxPath: tri.onnx,
          cardPath: await cardWith(file, change),
        }),
        file,
      ).rejects.toThrow(message);
    }
    expect(
      await env.ts.store.head(
        env.ts.config.CAMFLOW_MODEL_BUCKET,
        modelKeys({ name: 'tri-tiny', version: '1' }).card,
      ),
    ).toBeUndefined();
  });

  test("the card's name and version by default; a different one is refused when strict, said when not", async () => {
    const strict = pushModel(env.ts.store, env.ts.config, {
      onnxPath: cxr.onnx,
      cardPath: cxr.card,
      name: 'cxr3',
      version: '1',
      strictName: true,
    });
    await expect(strict).rejects.toBeInstanceOf(ModelNameMismatchError);
    await expect(strict).rejects.toThrow(
      'the card names the model cxr14-tiny@1 but the push says cxr3@1: make them agree, or leave --name and --version out to push it as cxr14-tiny@1',
    );
    const own = await pushModel(env.ts.store, env.ts.config, {
      onnxPath: cxr.onnx,
      cardPath: cxr.card,
      strictName: true,
    });
    expect(own.ref).toBe('cxr14-tiny@1');
    expect(own.renamed).toBeUndefined();
    const renamed = await pushModel(env.ts.store, env.ts.config, {
      onnxPath: tri.onnx,
      cardPath: tri.card,
      version: '2',
    });
    expect(renamed).toMatchObject({
      ref: 'tri-tiny@2',
      renamed: { from: 'tri-tiny@1', to: 'tri-tiny@2' },
    });
    const stored = JSON.parse(
      new TextDecoder().decode(
        (
          await env.ts.store.get(
            env.ts.config.CAMFLOW_MODEL_BUCKET,
            modelKeys({ name: 'tri-tiny', version: '2' }).card,
          )
        ).body,
      ),
    );
    expect(stored).toMatchObject({ name: 'tri-tiny', version: '2' });
  });
});

describe('models list', () => {
  test('every pushed model with what it predicts and takes', async () => {
    const models = await listModels(env.ts.store, env.ts.config.CAMFLOW_MODEL_BUCKET);
    expect(models.map((m) => m.model)).toEqual(['cxr14-tiny@1', 'tri-tiny@2', 'xray@1']);
    const [c, t, x] = models;
    expect(c).toMatchObject({
      kind: 'multi-label',
      activation: 'sigmoid',
      input: { size: [224, 224], channels: 1, layout: 'NCHW' },
      layer: 'layer4',
    });
    expect(c.classes).toHaveLength(14);
    expect(c.bytes).toBeGreaterThan(100_000);
    expect(t).toMatchObject({
      kind: 'multi-class',
      classes: ['normal', 'pneumonia', 'cardiomegaly'],
    });
    expect(x).toMatchObject({ kind: 'binary', classes: ['pneumonia'] });
  });

  test('GET /v1/models answers tokens that may run models, and only those', async () => {
    const api = client(svc.port);
    const ok = await api.get('/v1/models', TOKENS.writer);
    expect(ok.status).toBe(200);
    expect(ok.body.items.map((m: { model: string }) => m.model)).toEqual([
      'cxr14-tiny@1',
      'tri-tiny@2',
      'xray@1',
    ]);
    expect((await api.get('/v1/models', TOKENS.reader)).status).toBe(403);
    expect((await api.get('/v1/models')).status).toBe(401);
  });
});
