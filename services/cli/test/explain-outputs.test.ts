import { copyFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { outputStems } from '../src/output-stems.js';
import { runCli } from './run-cli.js';

const fixtures = join(import.meta.dirname, '../../../test/fixtures');
const model = join(fixtures, 'models/xray-clean');

describe('explain --out: one set of outputs per input, nothing overwritten unasked', () => {
  test('stems: the name where names differ, the path below the common folder where they do not', () => {
    expect([...outputStems(['/d/a/x.png', '/d/b/y.png']).values()]).toEqual(['x', 'y']);
    expect([...outputStems(['/d/a/x.png', '/d/b/x.png']).values()]).toEqual(['a/x', 'b/x']);
    expect([...outputStems(['/d/x.png', '/d/x.jpg']).values()]).toEqual(['x_png', 'x_jpg']);
  });

  test('a/x.png and b/x.png keep their folders; a second run refuses to overwrite without --force', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'camflow-explain-out-'));
    const a = join(tmp, 'in/a/x.png');
    const b = join(tmp, 'in/b/x.png');
    await mkdir(join(tmp, 'in/a'), { recursive: true });
    await mkdir(join(tmp, 'in/b'), { recursive: true });
    await copyFile(join(fixtures, 'byom/images/cxr15.png'), a);
    await copyFile(join(fixtures, 'byom/images/cxr06.png'), b);
    const out = join(tmp, 'out');
    const args = ['explain', a, b, '--model', model, '--out', out];

    const first = await runCli(args);
    expect(first.code).toBe(0);
    const docA = JSON.parse(await readFile(join(out, 'a/x.json'), 'utf8'));
    const docB = JSON.parse(await readFile(join(out, 'b/x.json'), 'utf8'));
    expect([docA.input, docB.input]).toEqual([a, b]);
    expect(docA.scores).not.toEqual(docB.scores);
    await stat(join(out, 'a/x.overlay.png'));
    await stat(join(out, 'b/x.overlay.png'));

    const before = (await stat(join(out, 'a/x.json'))).mtimeMs;
    const again = await runCli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/x\.(json|overlay\.png|heatmap\.png) exists; pass --force/);
    expect((await stat(join(out, 'a/x.json'))).mtimeMs).toBe(before);

    const forced = await runCli([...args, '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'a/x.json'), 'utf8')).input).toBe(a);
  });
});
