import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const image = join(import.meta.dirname, '../../../test/fixtures/byom/images/cxr15.png');

describe('camflow make-model', () => {
  test('writes a card beside the model, so explain of the made model works at its size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'camflow-make-model-'));
    const model = join(dir, 'small.onnx');
    const made = await runCli(['make-model', 'xray', '--out', model, '--size', '64', '--nf', '8']);
    expect(made.code).toBe(0);
    const card = JSON.parse(await readFile(join(dir, 'small.json'), 'utf8'));
    expect(card.input.size).toBe(64);
    expect(card.input.resizeTo).toBe(64);

    const r = await runCli(['explain', image, '--model', model, '--json']);
    // Random weights may leave the map empty (a warning); the input fits the model.
    expect(r.stderr).not.toMatch(/does not fit|shape/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.model).toBe(`${card.name}@${card.version}`);
    expect(doc.layer).toBe(card.layer);
    // The seed's last block at 64 px: a 2x2 map.
    expect([doc.items[0].cam.height, doc.items[0].cam.width]).toEqual([2, 2]);
  });
});
