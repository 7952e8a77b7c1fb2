import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, floatTensor, makeAttributes, makeModel, valueInfo } from '@camflow/onnx';
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

  test("--align receptive-field draws each cell on its receptive field; a card's align is the default", async () => {
    const img = join(tmp, 'align.png');
    const pixels = Buffer.alloc(256 * 256);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 13) % 241;
    writeFileSync(
      img,
      await sharp(pixels, { raw: { width: 256, height: 256, channels: 1 } })
        .png()
        .toBuffer(),
    );
    const explain = async (out: string, ...extra: string[]) => {
      const r = await runCli(['explain', img, '--out', join(tmp, out), ...extra]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(readFileSync(join(tmp, out, 'align.json'), 'utf8'));
    };
    const xray = join(goldens, 'xray/model.onnx');
    const plain = await explain('resize', '--model', xray);
    const aligned = await explain('rf', '--model', xray, '--align', 'receptive-field');
    expect(plain.cam.grid).toBeUndefined();
    expect(aligned.cam.grid).toEqual({ origin: [0, 0], stride: [32, 32] });
    expect(aligned.cam.data).toEqual(plain.cam.data);
    // Same CAM, drawn 15.5 px further up and left (the peak moves with it unless it is clamped
    // at the image edge).
    const dx = (plain.stats.peak.x - aligned.stats.peak.x) * 256;
    const dy = (plain.stats.peak.y - aligned.stats.peak.y) * 256;
    expect(dx).toBeGreaterThanOrEqual(0);
    expect(dy).toBeGreaterThanOrEqual(0);
    expect(dx + dy).toBeGreaterThan(0);
    // The reference models' cards ask for receptive-field alignment on resnet_blocks.3.
    const clean = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean');
    const card = await explain('card', '--model', clean);
    expect(card.cam.grid).toEqual({ origin: [0, 0], stride: [16, 16] });
    expect((await explain('card-off', '--model', clean, '--align', 'resize')).cam.grid).toBe(
      undefined,
    );
    const bad = await runCli(['explain', img, '--model', xray, '--align', 'centre']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--align must be one of resize, receptive-field; got "centre"/);
  });

  test('--align receptive-field on a layer behind a Resize warns once and draws it resized', async () => {
    // input -> Resize(1/2) -> Conv 3x3 (the layer) -> Relu -> global pool -> MatMul: the Resize
    // hides where the conv's cells sit on the input.
    const w = (name: string, dims: number[]) =>
      floatTensor(
        name,
        dims,
        Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7) % 5) / 5 - 0.3),
      );
    const model = makeModel({
      inputs: [valueInfo('input', ['N', 3, 256, 256])],
      outputs: [valueInfo('output', ['N', 1])],
      initializers: [
        floatTensor('scales', [4], [1, 1, 0.5, 0.5]),
        w('w', [4, 3, 3, 3]),
        w('fc', [4, 1]),
      ],
      nodes: [
        { name: 'down', opType: 'Resize', input: ['input', '', 'scales'], output: ['small'] },
        {
          name: 'conv',
          opType: 'Conv',
          input: ['small', 'w'],
          output: ['feat'],
          attribute: makeAttributes({ kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        },
        { name: 'relu', opType: 'Relu', input: ['feat'], output: ['act'] },
        { name: 'gap', opType: 'GlobalAveragePool', input: ['act'], output: ['gap'] },
        {
          name: 'flat',
          opType: 'Flatten',
          input: ['gap'],
          output: ['flat'],
          attribute: makeAttributes({ axis: 1 }),
        },
        { name: 'head', opType: 'MatMul', input: ['flat', 'fc'], output: ['output'] },
      ],
    });
    const path = join(tmp, 'resized.onnx');
    writeFileSync(path, encodeModel(model));
    const img = join(tmp, 'plain.png');
    writeFileSync(
      img,
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    const r = await runCli([
      'explain',
      img,
      '--model',
      path,
      '--layer',
      'relu',
      '--align',
      'receptive-field',
      '--out',
      join(tmp, 'resized'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^camflow: warning: the graph does not give layer "relu"'s receptive fields/,
      ),
    ]);
    const doc = JSON.parse(readFileSync(join(tmp, 'resized', 'plain.json'), 'utf8'));
    expect(doc.cam.width).toBe(128);
    expect(doc.cam.grid).toBeUndefined();
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
