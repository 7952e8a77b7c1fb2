// A public data set reprocessed as it is laid out, through the compiled CLI on the embedded stack
// (redis-server, s3rver, ingest, results and a worker with ONNX Runtime in this process):
// `camflow synth --layout imagefolder`, then `camflow runs create <dir> --labels folder --watch`
// uploads the folder, makes one run per split and prints per-split figures; the same command
// again uploads nothing and queues nothing (ingest's counters say so).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushModel } from '@camflow/ingest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type InProcessPipeline,
  startInProcessPipeline,
} from '../../../test/support/in-process.js';
import type { TestServices } from '../../../test/support/services.js';
import { runCli } from './run-cli.js';

const TOKEN = 'cli-folder-runs-token-0123';
const MODELS = join(import.meta.dirname, '../../../test/fixtures/models');

let svc: TestServices;
let stack: InProcessPipeline;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camflow-folder-runs-'));
  stack = await startInProcessPipeline(
    {
      BATCH_SIZE: '8',
      WORKER_CONCURRENCY: '4',
      CAMFLOW_API_TOKENS: JSON.stringify({ [TOKEN]: { scopes: ['admin'], buckets: ['*'] } }),
    },
    async (s) => {
      svc = s;
      await pushModel(svc.store, svc.config, {
        onnxPath: join(MODELS, 'xray-clean/model.onnx'),
        cardPath: join(MODELS, 'xray-clean/model.json'),
        name: 'xray-clean',
        version: '1',
      });
    },
  );
  env = {
    ...svc.env,
    CAMFLOW_INGEST_URL: `http://127.0.0.1:${stack.ingest.port}`,
    CAMFLOW_RESULTS_URL: `http://127.0.0.1:${stack.results.port}`,
    CAMFLOW_TOKEN: TOKEN,
  };
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Ingest's counters of runs created and explain jobs queued. */
async function counters() {
  const r = await fetch(`http://127.0.0.1:${stack.ingest.port}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const text = await r.text();
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
  return {
    runs: sum('camflow_ingest_runs_created_total'),
    jobs: sum('camflow_ingest_jobs_enqueued_total'),
  };
}

interface Outcome {
  upload: { images: number; uploaded: number; skipped: number; notImages: { count: number } };
  newRuns: number;
  existingRuns: number;
  runs: { split: string; runId: string; images: number; existing: boolean }[];
  splits: {
    split: string;
    runId: string;
    status: string;
    images: number;
    completed: number;
    failed: number;
    labelled: number;
    accuracy: number | null;
    audit: { verdict: string | null; summary?: string; message?: string };
    figures: {
      split: string;
      images: number;
      labelled: number;
      correct: number;
      accuracy: number;
      confusion: number[][];
      classes: string[];
    }[];
  }[];
}

describe('camflow runs create <dir> --labels folder', () => {
  test('synth imagefolder -> one command -> per-split figures; again: nothing uploaded or queued', async () => {
    const data = join(dir, 'chest_xray');
    const synth = await runCli([
      'synth',
      '--layout',
      'imagefolder',
      '--out',
      data,
      '--count',
      '40',
      '--size',
      '64',
      '--seed',
      '15',
    ]);
    expect(synth.code).toBe(0);
    expect(synth.stdout).toMatch(/train 32 .*; val 2 .*; test 6 /);
    // Debris as real archives have: counted, never uploaded.
    await writeFile(join(data, 'README.txt'), 'not an image');
    const args = [
      'runs',
      'create',
      data,
      '--model',
      'xray-clean@1',
      '--labels',
      'folder',
      '--classes',
      'NORMAL=0,PNEUMONIA=1',
      '--to',
      's3://datasets/kaggle/chest_xray',
      '--audit',
      '--watch',
      '--json',
    ];
    const first = await runCli(args, env);
    expect(first.stderr).not.toMatch(/camflow: (?!warning)/);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as Outcome;
    expect(a.upload).toMatchObject({ images: 40, uploaded: 40, skipped: 0 });
    expect(a.upload.notImages.count).toBe(1);
    expect(a.newRuns).toBe(3);
    expect(a.runs.map((r) => [r.split, r.images])).toEqual([
      ['test', 6],
      ['train', 32],
      ['val', 2],
    ]);
    for (const s of a.splits) {
      expect(s.status).toBe('completed');
      expect(s.completed + s.failed).toBe(s.images);
      expect(s.failed).toBe(0);
      // The run status's own per-split figures: every image labelled from its folder.
      expect(s.figures).toHaveLength(1);
      const f = s.figures[0];
      expect(f.split).toBe(s.split);
      expect(f.images).toBe(s.images);
      expect(f.labelled).toBe(s.images);
      expect(f.classes).toEqual(['NORMAL', 'PNEUMONIA']);
      expect(f.confusion.flat().reduce((x, y) => x + y, 0)).toBe(s.images);
      expect(f.correct).toBe(f.confusion[0][0] + f.confusion[1][1]);
      expect(f.accuracy).toBeCloseTo(f.correct / f.labelled, 10);
      expect(s.accuracy).toBeCloseTo(f.accuracy, 10);
    }
    // Each split audited on its own (asked with --audit: these splits are under 50 images).
    for (const s of a.splits) {
      expect(['shortcut-suspected', 'no-finding', 'inconclusive']).toContain(s.audit.verdict);
      expect(s.audit.summary).toMatch(/\w/);
    }
    console.log(
      'per-split accuracy:',
      a.splits.map((s) => `${s.split} ${s.images} ${s.accuracy}`).join('; '),
    );

    const before = await counters();
    const second = await runCli(args, env);
    expect(second.code).toBe(0);
    const b = JSON.parse(second.stdout) as Outcome;
    expect(b.upload).toMatchObject({ images: 40, uploaded: 0, skipped: 40 });
    expect(b.newRuns).toBe(0);
    expect(b.existingRuns).toBe(3);
    expect(b.runs.map((r) => r.runId)).toEqual(a.runs.map((r) => r.runId));
    expect(b.splits.map((s) => s.accuracy)).toEqual(a.splits.map((s) => s.accuracy));
    expect(await counters()).toEqual(before);

    // The same without --json: the summary a person reads.
    const text = await runCli(
      args.filter((x) => x !== '--json'),
      env,
    );
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(
      /upload to s3:\/\/datasets\/kaggle\/chest_xray\/: 0 uploaded \(0\.0 MiB\), 40 skipped as already there, 1 not an image \(e\.g\. README\.txt\)/,
    );
    expect(text.stderr).toMatch(/3 runs \(one per split\): all already made .* nothing new queued/);
    expect(text.stdout).toMatch(/^split\s+images\s+failed\s+accuracy\s+audit\n/);
    expect(text.stdout).toMatch(
      /\ntrain\s+32\s+0\s+\d+\.\d%\s+(no-finding|inconclusive|shortcut-suspected): /,
    );
    expect(text.stdout).toMatch(/report train: http:\/\/127\.0\.0\.1:\d+\/v1\//);
    expect(await counters()).toEqual(before);

    // The bucket copy as the source (no local folder): the same images, so the same runs.
    const fromBucket = await runCli(
      args
        .map((x) => (x === data ? 's3://datasets/kaggle/chest_xray/' : x))
        .filter((x, i) => x !== '--to' && args[i - 1] !== '--to' && x !== '--watch'),
      env,
    );
    expect(fromBucket.code).toBe(0);
    const c = JSON.parse(fromBucket.stdout) as Outcome;
    expect(c.existingRuns).toBe(3);
    expect(c.runs.map((r) => r.runId)).toEqual(a.runs.map((r) => r.runId));
    expect(await counters()).toEqual(before);
  }, 300_000);

  test("over an S3 prefix with the real archive's nested folder: per-split runs from the bucket", async () => {
    const data = join(dir, 'chest_xray');
    const up = await runCli(['upload', data, 's3://datasets/nested/chest_xray/chest_xray'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(
      /^upload to s3:\/\/datasets\/nested\/chest_xray\/chest_xray\/: 40 uploaded \(\d+\.\d MiB\), 0 skipped as already there, 1 not an image \(e\.g\. README\.txt\)/,
    );
    const again = await runCli(
      ['upload', data, 's3://datasets/nested/chest_xray/chest_xray', '--json'],
      env,
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ images: 40, uploaded: 0, skipped: 40 });
    const r = await runCli(
      [
        'runs',
        'create',
        's3://datasets/nested',
        '--model',
        'xray-clean@1',
        '--labels',
        'folder',
        '--classes',
        'NORMAL=0,PNEUMONIA=1',
        '--watch',
        '--json',
      ],
      env,
    );
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as Outcome & { upload?: unknown };
    expect(o.upload).toBeUndefined();
    expect(o.newRuns).toBe(3);
    expect(o.runs.map((x) => [x.split, x.images])).toEqual([
      ['test', 6],
      ['train', 32],
      ['val', 2],
    ]);
    for (const s of o.splits) {
      expect(s.status).toBe('completed');
      expect(s.figures[0]).toMatchObject({ split: s.split, images: s.images, labelled: s.images });
    }

    // A local folder without folder labels: uploaded, one unlabelled run over all of it.
    const plain = await runCli(
      [
        'runs',
        'create',
        data,
        '--model',
        'xray-clean@1',
        '--to',
        's3://datasets/kaggle/chest_xray',
      ],
      env,
    );
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/: 0 uploaded \(0\.0 MiB\), 40 skipped as already there/);
    expect(plain.stdout).toMatch(/^run-\S+ {2}\(all\) {2}40 images\n$/);
    const status = await runCli(['runs', 'status', plain.stdout.split(' ')[0], '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ total: 40 });
  }, 300_000);

  test('bad input: no --classes for a single-output card, a folder naming no class (nothing uploaded); mixed extensions, an empty split, a stray file (warned)', async () => {
    const data = join(dir, 'chest_xray');
    const create = (src: string, to: string, ...more: string[]) =>
      runCli(
        [
          'runs',
          'create',
          src,
          '--model',
          'xray-clean@1',
          '--labels',
          'folder',
          '--to',
          to,
          ...more,
        ],
        env,
      );
    const noClasses = await create(data, 's3://datasets/x');
    expect(noClasses.code).toBe(2);
    expect(noClasses.stderr).toMatch(
      /^camflow: .*: 11 images in folders that name no class .*"NORMAL" \(9 images, e\.g\. x\/train\/NORMAL\/.*map it to 0, e\.g\. --classes NORMAL=0,PNEUMONIA=1\n$/,
    );
    const odd = join(dir, 'odd');
    await mkdir(join(odd, 'test', 'NORMAL'), { recursive: true });
    await mkdir(join(odd, 'test', 'normal_old'), { recursive: true });
    const film = await readFile(
      join(data, 'train', 'NORMAL', (await readdir(join(data, 'train', 'NORMAL')))[0]),
    );
    await writeFile(join(odd, 'test', 'NORMAL', 'a.jpeg'), film);
    await writeFile(join(odd, 'test', 'normal_old', 'b.jpeg'), film);
    const bad = await create(odd, 's3://datasets/odd', '--classes', 'NORMAL=0,PNEUMONIA=1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /1 image in folders that name no class \(classes: NORMAL=0, PNEUMONIA=1\): "normal_old" \(1 image, e\.g\. odd\/test\/normal_old\/b\.jpeg\)/,
    );
    for (const prefix of ['x/', 'odd/'])
      expect((await svc.store.list('datasets', prefix)).objects).toHaveLength(0);

    // Reported, not fatal: mixed extensions, an empty split, a split missing a class, a stray file.
    const mixed = join(dir, 'mixed');
    await mkdir(join(mixed, 'val'), { recursive: true });
    await mkdir(join(mixed, 'test', 'NORMAL'), { recursive: true });
    await mkdir(join(mixed, 'test', 'PNEUMONIA'), { recursive: true });
    await writeFile(join(mixed, 'test', 'NORMAL', 'a.jpeg'), film);
    await writeFile(join(mixed, 'test', 'PNEUMONIA', 'b.JPG'), film);
    await writeFile(join(mixed, 'test', 'PNEUMONIA', 'notes.txt'), 'x');
    const warned = await create(mixed, 's3://datasets/mixed', '--classes', 'NORMAL=0,PNEUMONIA=1');
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/1 not an image \(e\.g\. test\/PNEUMONIA\/notes\.txt\)/);
    expect(warned.stderr).toMatch(/camflow: warning: mixed extensions \(all explained\): /);
    expect(warned.stderr).toMatch(
      /camflow: warning: empty split "val" \(mixed\/val\/\): no images/,
    );
    expect(warned.stdout).toMatch(/^run-\S+ {2}test {2}2 images\n$/);
  });
});
