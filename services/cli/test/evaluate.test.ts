import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const models = join(import.meta.dirname, '../../../test/fixtures/models');
const data = join(mkdtempSync(join(tmpdir(), 'camflow-eval-')), 'heldout');

describe('camflow evaluate on the reference models', () => {
  test('shows plainly that the shortcut model looks at the marker and the clean one at the lesions', async () => {
    // Held-out phantoms: a seed not used in training, most pneumonia images with the marker.
    const synth = await runCli([
      'synth',
      '--out',
      data,
      '--count',
      '60',
      '--seed',
      '23',
      '--shortcut',
      '0.95',
    ]);
    expect(synth.code).toBe(0);
    const run = async (model: string) => {
      const r = await runCli([
        'evaluate',
        '--model',
        join(models, model),
        '--data',
        data,
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout);
    };
    const clean = await run('xray-clean');
    const shortcut = await run('xray-shortcut');
    expect(clean.images).toBe(60);
    // The cards' settings, and what was applied.
    expect(clean.layer).toBe('resnet_blocks.3');
    expect(clean.align).toEqual({ requested: 'receptive-field', applied: 'receptive-field' });
    expect(shortcut.align.applied).toBe('receptive-field');
    expect(clean.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(shortcut.accuracy).toBeGreaterThanOrEqual(0.85);
    // The bar (measured on 1000 images in the model README; 60 here for time).
    expect(clean.pointingGame.rate).toBeGreaterThanOrEqual(0.85);
    expect(clean.pointingGame.rate).toBeGreaterThan(shortcut.pointingGame.rate + 0.5);
    expect(shortcut.markerEnergy).toBeGreaterThan(4 * clean.markerEnergy);
    expect(clean.markerPeak.onMarker).toBe(0);
    // The shortcut model's peak is at the marker (within Zhang et al.'s 15 px) for most marked
    // images; the clean model's almost never.
    expect(shortcut.markerPeak.nearRate).toBeGreaterThan(0.5);
    expect(clean.markerPeak.nearRate).toBeLessThan(0.1);
  });

  test('bad --align and --tolerance values are one clear line and exit code 2', async () => {
    for (const [flag, value, message] of [
      ['--align', 'middle', /--align must be one of resize, receptive-field; got "middle"/],
      ['--tolerance', 'wide', /--tolerance must be pixels >= 0, got "wide"/],
    ] as const) {
      const r = await runCli([
        'evaluate',
        '--model',
        join(models, 'xray-clean'),
        '--data',
        data,
        flag,
        value,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
