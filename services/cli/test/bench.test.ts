import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');

describe('camflow bench', () => {
  test('--json prints the contract shape with consistent figures', async () => {
    const r = await runCli([
      'bench',
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--batch',
      '2',
      '--seconds',
      '0.5',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['batch', 'forward', 'gradcam', 'ratio', 'provider', 'layer']);
    expect(doc.provider).toBe('cpu');
    // No --layer and no card: the engine's default layer, the one explain uses too.
    const explained = await runCli([
      'explain',
      join(goldens, 'resnet/input.npy'),
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--json',
    ]);
    expect(JSON.parse(explained.stdout).layer).toBe(doc.layer);
    expect(doc.layer).toMatch(/^layer4/);
    expect(doc.batch).toBe(2);
    expect(doc.forward.imagesPerSec).toBeGreaterThan(0);
    expect(doc.gradcam.imagesPerSec).toBeGreaterThan(0);
    expect(doc.ratio).toBeCloseTo(doc.gradcam.imagesPerSec / doc.forward.imagesPerSec, 10);
  });

  test('the text report names the layer it took the maps at', async () => {
    const r = await runCli([
      'bench',
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--seconds',
      '0.2',
      '--layer',
      'layer3',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/, layer layer3, cpu$/);
  });

  test('bad arguments exit 2', async () => {
    const r = await runCli([
      'bench',
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--batch',
      '0',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch must be a positive integer/);
  });
});
