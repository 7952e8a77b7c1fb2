import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyToFloat32 } from '@camflow/imaging';
import { encodeModel, floatTensor, int64Tensor, makeModel, valueInfo } from '@camflow/onnx';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const goldens = join(import.meta.dirname, '../../../test/fixtures/goldens');
const tmp = mkdtempSync(join(tmpdir(), 'camflow-cli-'));
const npy = (p: string) => npyToFloat32(new Uint8Array(readFileSync(join(goldens, p))));

describe('camflow explain --json', () => {
  test('matches the seed PyTorch hooks on an XRayClassifier export, for a batch', async () => {
    const r = await runCli([
      'explain',
      join(goldens, 'xray/input.npy'),
      '--model',
      join(goldens, 'xray/model.onnx'),
      '--layer',
      'resnet_blocks.4',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['model', 'layer', 'method', 'items']);
    expect(doc.layer).toBe('resnet_blocks.4');
    expect(doc.method).toBe('gradcam');
    const cams = npy('xray/predicted/cam_gradcam.npy');
    const scores = npy('xray/predicted/scores.npy');
    expect(doc.items).toHaveLength(3);
    doc.items.forEach(
      (
        it: {
          scores: number[];
          target: number;
          cam: { height: number; width: number; data: number[] };
        },
        i: number,
      ) => {
        expect(it.target).toBe(0);
        expect(Math.abs(it.scores[0] - scores.data[i]) / Math.abs(scores.data[i])).toBeLessThan(
          1e-4,
        );
        expect([it.cam.height, it.cam.width]).toEqual([8, 8]);
        const golden = cams.data.subarray(i * 64, (i + 1) * 64);
        const gmax = Math.max(...golden);
        const max = Math.max(...it.cam.data);
        it.cam.data.forEach((v, j) => {
          expect(Math.abs(v / max - golden[j] / gmax)).toBeLessThan(1e-3);
        });
      },
    );
  });

  test('a fixed target and another method', async () => {
    const r = await runCli([
      'explain',
      join(goldens, 'resnet/input.npy'),
      '--model',
      join(goldens, 'resnet/model.onnx'),
      '--layer',
      'layer4',
      '--method',
      'gradcam++',
      '--target',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const cams = npy('resnet/target1/cam_gradcampp.npy');
    const per = cams.shape[1] * cams.shape[2];
    for (const [i, it] of doc.items.entries()) {
      expect(it.target).toBe(1);
      const golden = cams.data.subarray(i * per, (i + 1) * per);
      const gmax = Math.max(...golden);
      const max = Math.max(...it.cam.data);
      it.cam.data.forEach((v: number, j: number) => {
        expect(Math.abs(v / max - golden[j] / gmax)).toBeLessThan(1e-3);
      });
    }
  });

  test('--target 1,3 gives cams [{target, score, cam}] per item, cam = the first, each as alone', async () => {
    const args = [join(goldens, 'resnet/input.npy'), '--model', join(goldens, 'resnet/model.onnx')];
    const r = await runCli(['explain', ...args, '--layer', 'layer4', '--target', '1,3', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const alone = JSON.parse(
      (await runCli(['explain', ...args, '--layer', 'layer4', '--target', '3', '--json'])).stdout,
    );
    const target1 = npy('resnet/target1/cam_gradcam.npy');
    for (const [i, it] of doc.items.entries()) {
      expect(Object.keys(it)).toEqual(['input', 'index', 'scores', 'target', 'cam', 'cams']);
      expect(it.cams.map((c: { target: number }) => c.target)).toEqual([1, 3]);
      expect(it.cam).toEqual(it.cams[0].cam);
      expect(it.target).toBe(1);
      expect(it.cams[1].score).toBeCloseTo(it.scores[3], 6);
      const one = alone.items[i].cam.data;
      it.cams[1].cam.data.forEach((v: number, j: number) => {
        expect(Math.abs(v - one[j])).toBeLessThan(1e-4 * Math.max(...one));
      });
      const golden = target1.data.subarray(i * 9, (i + 1) * 9);
      const max = Math.max(...it.cam.data);
      it.cam.data.forEach((v: number, j: number) => {
        expect(Math.abs(v / max - golden[j] / Math.max(...golden))).toBeLessThan(1e-3);
      });
    }
  });

  test('the rest of the CAM family: --method ablationcam, two --layer fused', async () => {
    const args = [join(goldens, 'resnet/input.npy'), '--model', join(goldens, 'resnet/model.onnx')];
    const check = (
      doc: { items: { cam: { data: number[] } }[] },
      file: string,
      normalise: boolean,
    ) => {
      const golden = npy(file);
      doc.items.forEach((it, i) => {
        const g = golden.data.subarray(i * it.cam.data.length, (i + 1) * it.cam.data.length);
        const [ma, mb] = normalise ? [Math.max(...it.cam.data), Math.max(...g)] : [1, 1];
        it.cam.data.forEach((v, j) => {
          expect(Math.abs(v / ma - g[j] / mb)).toBeLessThan(1e-3);
        });
      });
    };
    const ablation = await runCli([
      'explain',
      ...args,
      '--layer',
      'layer4',
      '--method',
      'ablationcam',
      '--json',
    ]);
    expect(ablation.code).toBe(0);
    check(JSON.parse(ablation.stdout), 'resnet/methods/cam_ablationcam.npy', true);
    const fused = await runCli([
      'explain',
      ...args,
      '--layer',
      'layer3',
      '--layer',
      'layer4',
      '--json',
    ]);
    expect(fused.code).toBe(0);
    const doc = JSON.parse(fused.stdout);
    expect(doc.layer).toBe('layer3,layer4');
    check(doc, 'resnet/methods/cam_gradcam-fusion.npy', false);
  });
});

describe('camflow explain: one clear line and exit code 2', () => {
  const xray = ['--model', join(goldens, 'xray/model.onnx')];
  const input = join(goldens, 'xray/input.npy');

  test.each([
    [
      'an unknown layer',
      [input, ...xray, '--layer', 'resnet_blocks.9'],
      /unknown layer "resnet_blocks.9"; close matches: resnet_blocks/,
    ],
    [
      'a missing input',
      ['/nonexistent/x.npy', ...xray],
      /cannot read input \/nonexistent\/x.npy: no such file/,
    ],
    [
      'a missing model',
      [input, '--model', '/nonexistent.onnx'],
      /cannot read model \/nonexistent.onnx/,
    ],
    [
      'a wrong input shape',
      [join(goldens, 'resnet/input.npy'), ...xray],
      /input shape \[3, 3, 96, 96\] does not fit the model's input \[N, 3, 256, 256\]/,
    ],
    ['an unknown method', [input, ...xray, '--method', 'magic'], /--method must be one of/],
    [
      'a bad target',
      [input, ...xray, '--target', 'cat'],
      /--target must be "predicted", a class index, "all", a list like 0,3,7 or top<k> \(class names need a model card\); got "cat"/,
    ],
    ['a bad target list', [input, ...xray, '--target', '0,x'], /--target must be .*; got "x"/],
    [
      'a bad layout',
      [input, ...xray, '--layout', 'sideways'],
      /--layout must be one of auto, nchw, nhwc, tokens; got "sideways"/,
    ],
    [
      'a layout that does not fit the layer',
      [input, ...xray, '--layout', 'tokens'],
      /layer "resnet_blocks.4" \[N, 128, 8, 8\] gives no 2-D map: --layout tokens needs a 3-D \[N, T, C\] tensor, it is 4-D; pass --layout nchw\|nhwc\|tokens/,
    ],
    [
      'a target out of range',
      [input, ...xray, '--target', '3'],
      /target 3 is not a class index in \[0, 0\]/,
    ],
    ['an unknown option', [input, ...xray, '--colour', 'red'], /Unknown option '--colour'/],
    ['no inputs', [...xray], /no input files given/],
  ])('%s', async (_what, args, message) => {
    const r = await runCli(['explain', ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
  });

  test('a corrupt model file', async () => {
    const bad = join(tmp, 'corrupt.onnx');
    writeFileSync(bad, 'this is not a protobuf at all, just text');
    const r = await runCli(['explain', input, '--model', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^camflow: not an ONNX model/);
  });

  test('an op the engine cannot differentiate names the op and node', async () => {
    // h -> TopK (no gradient rule) -> output
    const model = makeModel({
      opset: 13,
      inputs: [valueInfo('x', ['N', 2, 3, 3])],
      outputs: [valueInfo('y', ['N', 2])],
      initializers: [int64Tensor('k', [1], [2]), floatTensor('w', [2, 2, 1, 1], [1, 0.5, -0.5, 1])],
      nodes: [
        { name: '/features/Conv', opType: 'Conv', input: ['x', 'w'], output: ['h'] },
        { name: '/flat/Flatten', opType: 'Flatten', input: ['h'], output: ['f'] },
        { name: '/head/TopK', opType: 'TopK', input: ['f', 'k'], output: ['y', 'idx'] },
      ],
    });
    const path = join(tmp, 'topk.onnx');
    writeFileSync(path, encodeModel(model));
    const x = join(tmp, 'x.npy');
    const { writeNpy } = await import('@camflow/imaging');
    writeFileSync(
      x,
      writeNpy(
        new Float32Array(18).map((_, i) => Math.sin(i)),
        [1, 2, 3, 3],
      ),
    );
    const r = await runCli(['explain', x, '--model', path, '--layer', 'features']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /cannot differentiate TopK \(node "\/head\/TopK"\) between layer "features" and the output/,
    );
  });
});
