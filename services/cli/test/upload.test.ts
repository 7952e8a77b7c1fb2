// `camflow upload <dir> s3://bucket/prefix`: what is missing, by content hash; an interrupted
// upload resumes where it stopped; files that are not images are counted, never uploaded.
// Real s3rver (or MinIO with Docker), the compiled CLI.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { runCli } from './run-cli.js';

let svc: TestServices;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camflow-upload-'));
  svc = await startTestServices();
}, 120_000);
afterAll(async () => {
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const summary = (stdout: string) =>
  JSON.parse(stdout) as {
    images: number;
    uploaded: number;
    skipped: number;
    notImages: { count: number; examples: string[] };
  };

describe('camflow upload', () => {
  test('uploads what is missing, resumes a partial upload, re-sends changed files only', async () => {
    const data = join(dir, 'cx');
    const synth = await runCli([
      'synth',
      '--layout',
      'imagefolder',
      '--out',
      data,
      '--count',
      '12',
      '--size',
      '64',
      '--splits',
      'train=0.5,test=0.5',
    ]);
    expect(synth.code).toBe(0);
    // Not images whatever their names say: counted with examples, never uploaded.
    await writeFile(join(data, 'train', 'NORMAL', 'fake.jpeg'), 'text, not a JPEG');
    await mkdir(join(data, '__MACOSX'), { recursive: true });
    await writeFile(join(data, '__MACOSX', '._x.jpeg'), Buffer.alloc(100, 7));

    // An upload that stopped after train/: the rest follows, train/ is not sent again.
    const part = await runCli(
      ['upload', join(data, 'train'), 's3://uploaded/cx/train', '--json'],
      svc.env,
    );
    expect(part.stderr).toBe('');
    expect(part.code).toBe(0);
    expect(summary(part.stdout)).toMatchObject({ images: 6, uploaded: 6, skipped: 0 });
    const rest = await runCli(['upload', data, 's3://uploaded/cx', '--json'], svc.env);
    expect(rest.code).toBe(0);
    const r = summary(rest.stdout);
    expect(r).toMatchObject({ images: 12, uploaded: 6, skipped: 6 });
    expect(r.notImages.count).toBe(2);
    expect(r.notImages.examples.sort()).toEqual(['__MACOSX/._x.jpeg', 'train/NORMAL/fake.jpeg']);
    const keys = (await svc.store.list('uploaded', 'cx/')).objects.map((o) => o.key);
    expect(keys).toHaveLength(12);
    expect(keys.every((k) => /^cx\/(train|test)\/(NORMAL|PNEUMONIA)\/[^/]+\.jpeg$/.test(k))).toBe(
      true,
    );

    // A changed file goes again; the rest is already there.
    const changed = keys.find((k) => k.startsWith('cx/test/'))!.slice('cx/'.length);
    const film = await svc.store.get('uploaded', keys.find((k) => k.startsWith('cx/train/'))!);
    await writeFile(join(data, changed), film.body);
    const again = await runCli(['upload', data, 's3://uploaded/cx'], svc.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^upload to s3:\/\/uploaded\/cx\/: 1 uploaded \(0\.0 MiB\), 11 skipped as already there, 2 not an image \(e\.g\. /,
    );
    expect(Buffer.from((await svc.store.get('uploaded', `cx/${changed}`)).body)).toEqual(
      Buffer.from(film.body),
    );
  });

  test('bad arguments: one line, exit code 2', async () => {
    const missing = await runCli(['upload', join(dir, 'nope'), 's3://uploaded/x'], svc.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^camflow: .*nope: not a folder\n$/);
    const noDest = await runCli(['upload', dir], svc.env);
    expect(noDest.code).toBe(2);
    expect(noDest.stderr).toMatch(/usage: camflow upload <dir> s3:\/\/<bucket>\/<prefix>/);
  });
});
