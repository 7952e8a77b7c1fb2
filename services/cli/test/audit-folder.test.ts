// `camflow audit <dir> --labels folder`: labels from the ImageFolder layout for the local audit
// (the clean reference model on phantoms from `camflow synth --layout imagefolder`).
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditDocumentSchema } from '@camflow/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const MODEL = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean');
let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camflow-audit-folder-'));
  data = join(dir, 'cx');
  const r = await runCli([
    'synth',
    '--layout',
    'imagefolder',
    '--out',
    data,
    '--count',
    '80',
    '--size',
    '128',
    '--seed',
    '41',
    '--splits',
    'train=0.25,test=0.75',
  ]);
  expect(r.code).toBe(0);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('camflow audit --labels folder', () => {
  test('one split of the layout, labelled by its class folders', async () => {
    const r = await runCli([
      'audit',
      join(data, 'test'),
      '--model',
      MODEL,
      '--labels',
      'folder',
      '--classes',
      'NORMAL=0,PNEUMONIA=1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = auditDocumentSchema.passthrough().parse(JSON.parse(r.stdout));
    expect(doc.images).toBe(60);
    // Every image labelled from its folder (none from a CSV).
    expect(doc.labelled).toBe(60);
  });

  test('a folder naming no class stops it with counts and examples; the hint names --classes', async () => {
    const noClasses = await runCli([
      'audit',
      join(data, 'test'),
      '--model',
      MODEL,
      '--labels',
      'folder',
    ]);
    expect(noClasses.code).toBe(2);
    expect(noClasses.stderr).toMatch(
      /^camflow: \d+ images in folders that name no class \(classes: pneumonia=1\): "NORMAL" \(\d+ images, e\.g\. NORMAL\/img_\d+\.jpeg.*--classes NORMAL=0,PNEUMONIA=1\n$/,
    );
    const odd = join(dir, 'odd');
    await mkdir(join(odd, 'NORMAL'), { recursive: true });
    await mkdir(join(odd, 'old_normal'), { recursive: true });
    const film = join(
      data,
      'train',
      'PNEUMONIA',
      (await readdir(join(data, 'train', 'PNEUMONIA')))[0],
    );
    await copyFile(film, join(odd, 'NORMAL', 'a.jpeg'));
    await copyFile(film, join(odd, 'old_normal', 'b.jpeg'));
    const bad = await runCli([
      'audit',
      odd,
      '--model',
      MODEL,
      '--labels',
      'folder',
      '--classes',
      'NORMAL=0,PNEUMONIA=1',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /1 image in folders that name no class .*"old_normal" \(1 image, e\.g\. old_normal\/b\.jpeg\)/,
    );
    const stray = await runCli(['audit', odd, '--model', MODEL, '--classes', 'NORMAL=0']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--classes needs --labels folder/);
  });
});
