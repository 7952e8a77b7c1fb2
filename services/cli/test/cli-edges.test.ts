import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, runCli } from './run-cli.js';

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
});
