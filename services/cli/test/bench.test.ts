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
    expect(Object.keys(doc)).toEqual(['batch', 'forward', 'gradcam', 'ratio', 'provider']);
    expect(doc.provider).toBe('cpu');
    expect(doc.batch).toBe(2);
    expect(doc.forward.imagesPerSec).toBeGreaterThan(0);
    expect(doc.gradcam.imagesPerSec).toBeGreaterThan(0);
    expect(doc.ratio).toBeCloseTo(doc.gradcam.imagesPerSec / doc.forward.imagesPerSec, 10);
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
