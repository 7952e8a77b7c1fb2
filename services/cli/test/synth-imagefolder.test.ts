// `camflow synth --layout imagefolder`: the phantoms as Kaggle's chest X-ray set lays them out,
// through the compiled CLI.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camflow-cli-imagefolder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('camflow synth --layout imagefolder', () => {
  test('writes <split>/<CLASS>/*.jpeg with the given splits and says what it wrote', async () => {
    const out = join(dir, 'cx');
    const r = await runCli([
      'synth',
      '--layout',
      'imagefolder',
      '--out',
      out,
      '--count',
      '20',
      '--size',
      '64',
      '--seed',
      '5',
      '--splits',
      'train=0.5,test=0.5',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote 20 JPEG films to .*: train 10 \(\d+ NORMAL, \d+ PNEUMONIA\); test 10 /,
    );
    expect((await readdir(out)).sort()).toEqual(['test', 'train']);
    let n = 0;
    for (const split of ['train', 'test'])
      for (const cls of await readdir(join(out, split))) {
        expect(['NORMAL', 'PNEUMONIA']).toContain(cls);
        for (const f of await readdir(join(out, split, cls))) {
          expect(f).toMatch(/\.jpeg$/);
          const head = await readFile(join(out, split, cls, f));
          expect([...head.subarray(0, 2)]).toEqual([0xff, 0xd8]);
          n++;
        }
      }
    expect(n).toBe(20);
  });

  test('bad splits and --splits without the layout: one line, exit code 2', async () => {
    const bad = await runCli(['synth', '--layout', 'imagefolder', '--out', dir, '--splits', 'a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^camflow: --splits: expected name=share/);
    const dup = await runCli([
      'synth',
      '--layout',
      'imagefolder',
      '--out',
      dir,
      '--splits',
      'a=1,a=2',
    ]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/split names must differ/);
    const files = await runCli(['synth', '--out', dir, '--splits', 'a=1']);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/--splits needs --layout imagefolder/);
    const layout = await runCli(['synth', '--layout', 'coco', '--out', dir]);
    expect(layout.code).toBe(2);
    expect(layout.stderr).toMatch(/--layout must be one of files, imagefolder/);
  });
});
