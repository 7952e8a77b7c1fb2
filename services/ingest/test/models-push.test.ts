import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelKeys } from '@camflow/contracts';
import { seedCardJson } from '@camflow/imaging';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { pushModel } from '../src/index.js';
import { SEED_ONNX } from './helpers.js';

let ts: TestServices;
let dir: string;
beforeAll(async () => {
  ts = await startTestServices();
  dir = await mkdtemp(join(tmpdir(), 'camflow-push-'));
});
afterAll(async () => {
  await ts?.close();
  await rm(dir, { recursive: true, force: true });
});

async function card(name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('pushModel', () => {
  test('uploads the ONNX and the card (named as pushed) to modelKeys', async () => {
    const cardPath = await card('ok.json', seedCardJson);
    const pushed = await pushModel(ts.store, ts.config, {
      onnxPath: SEED_ONNX,
      cardPath,
      name: 'xray-clean',
      version: '2',
    });
    const keys = modelKeys({ name: 'xray-clean', version: '2' });
    expect(pushed).toMatchObject({
      bucket: 'camflow-models',
      onnxKey: keys.onnx,
      cardKey: keys.card,
    });
    const stored = JSON.parse(
      new TextDecoder().decode((await ts.store.get('camflow-models', keys.card)).body),
    );
    expect(stored).toMatchObject({ name: 'xray-clean', version: '2', layer: 'resnet_blocks.4' });
    expect((await ts.store.head('camflow-models', keys.onnx))?.size).toBe(pushed.bytes);
  });

  test('refuses a bad card, a card layer the model lacks, a file that is not ONNX, a bad name', async () => {
    const base = { onnxPath: SEED_ONNX, name: 'bad', version: '1' };
    await expect(
      pushModel(ts.store, ts.config, { ...base, cardPath: await card('a.json', '{nope') }),
    ).rejects.toThrow(/not JSON/);
    await expect(
      pushModel(ts.store, ts.config, {
        ...base,
        cardPath: await card('b.json', { ...seedCardJson, input: { size: 0 } }),
      }),
    ).rejects.toThrow(/input\.size/);
    await expect(
      pushModel(ts.store, ts.config, {
        ...base,
        cardPath: await card('c.json', { ...seedCardJson, layer: 'resnet_blocks.40' }),
      }),
    ).rejects.toThrow(/unknown layer/);
    await expect(
      pushModel(ts.store, ts.config, {
        ...base,
        onnxPath: await card('not.onnx', 'hello'),
        cardPath: await card('d.json', seedCardJson),
      }),
    ).rejects.toThrow(/not an ONNX model/);
    await expect(
      pushModel(ts.store, ts.config, {
        ...base,
        name: 'a/b',
        cardPath: await card('e.json', seedCardJson),
      }),
    ).rejects.toThrow(/model must be/);
    expect(
      await ts.store.head('camflow-models', modelKeys({ name: 'bad', version: '1' }).card),
    ).toBeUndefined();
  });
});
