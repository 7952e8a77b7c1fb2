import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
const tmp = mkdtempSync(join(tmpdir(), 'camflow-cli-img-'));

describe('camflow explain on image files', () => {
  test('--out writes an overlay and a 16-bit heatmap at the source resolution, and stats', async () => {
    const img = join(tmp, 'scan.png');
    const pixels = Buffer.alloc(300 * 200 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 251;
    writeFileSync(
      img,
      await sharp(pixels, { raw: { width: 300, height: 200, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const out = join(tmp, 'out');
    const r = await runCli([
      'explain',
      img,
      '--model',
      join(goldens, 'xray/model.onnx'),
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scan.png: target 0, scores \[0\.\d{4}\], cam 8x8/);
    const overlay = await sharp(readFileSync(join(out, 'scan.overlay.png'))).metadata();
    expect([overlay.width, overlay.height]).toEqual([300, 200]);
    const heatmap = await sharp(readFileSync(join(out, 'scan.heatmap.png'))).metadata();
    expect([heatmap.width, heatmap.height, heatmap.depth]).toEqual([300, 200, 'ushort']);
    const doc = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
    expect(doc.image).toEqual({ width: 300, height: 200 });
    expect(doc.cam.data).toHaveLength(64);
    expect(doc.stats.peak.x).toBeGreaterThanOrEqual(0);
    expect(doc.stats.peak.x).toBeLessThanOrEqual(1);
  });

  test('a corrupt image is one clear line and exit code 2', async () => {
    const bad = join(tmp, 'broken.png');
    writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
    const r = await runCli(['explain', bad, '--model', join(goldens, 'xray/model.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^camflow: cannot use .*broken.png: /);
  });
});
