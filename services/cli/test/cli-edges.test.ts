import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, runCli, runCliIn } from './run-cli.js';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');

describe('camflow at the edges a user meets', () => {
  test('a reader that closes the pipe early (| head) ends the CLI quietly, exit 0', async () => {
    const child = spawn(process.execPath, [CLI, 'help']);
    // Closed before the CLI has started, so its first write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  test('--target -1 says what --target takes, not "ambiguous"', async () => {
    const r = await runCli([
      'explain',
      join(goldens, 'resnet/input.npy'),
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--target',
      '-1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/ambiguous/);
    expect(r.stderr).toMatch(/--target must be .*got "-1"/);
  });

  test('a negative number option value meets its own check', async () => {
    const r = await runCli([
      'bench',
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--batch',
      '-2',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch must be a positive integer, got "-2"/);
  });

  test('a model card given as --model is named as a card, with what to pass instead', async () => {
    const card = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean/model.json');
    const r = await runCli(['explain', join(goldens, 'resnet/input.npy'), '--model', card]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/wire type/);
    expect(r.stderr).toMatch(
      /model\.json is a model card \(JSON\), not an ONNX model: pass --model <model\.onnx>/,
    );
  });

  test('models push without S3 settings names the variables to set', async () => {
    const models = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean');
    const home = await mkdtemp(join(tmpdir(), 'camflow-no-s3-'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(S3_|AWS_)/.test(k)),
    ) as Record<string, string>;
    const r = await runCliIn(
      ['models', 'push', join(models, 'model.onnx'), '--card', join(models, 'model.json')],
      // No profile files, no instance metadata: the SDK's chain has nothing to find.
      { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' },
    );
    expect(r.stderr).not.toMatch(/Could not load credentials/);
    expect(r.stderr).toMatch(
      /no S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, and S3_ENDPOINT/,
    );
    expect(r.code).toBe(2);
  });

  test('models push of a card as the model names the mix-up before reaching S3', async () => {
    const card = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean/model.json');
    const r = await runCli(['models', 'push', card, '--card', card], {
      S3_ENDPOINT: 'http://127.0.0.1:1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /model\.json is a model card \(JSON\), not an ONNX model: models push <model\.onnx>/,
    );
  });
});
