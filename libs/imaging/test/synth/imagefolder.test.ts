import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignSplits,
  classFolders,
  synthesize,
  type WriteImageFolderResult,
  writeImageFolder,
} from '../../src/synth/index.js';

let dir: string;
let result: WriteImageFolderResult;
const OPTS = { count: 40, seed: 7, size: 64 };

/** Every file under dir, relative, with `/`. */
async function files(root: string): Promise<string[]> {
  const out = await readdir(root, { recursive: true, withFileTypes: true });
  return out
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camflow-imagefolder-'));
  result = await writeImageFolder({ ...OPTS, out: join(dir, 'a') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('phantoms laid out as an ImageFolder data set', () => {
  it('writes <split>/<CLASS>/<name>.jpeg, each in its label folder, splits by share', async () => {
    const written = await files(join(dir, 'a'));
    expect(written).toHaveLength(40);
    const labels = new Map([...synthesize(OPTS)].map((s) => [s.name, s.label]));
    const perSplit: Record<string, number> = {};
    for (const f of written) {
      const m = /^(train|val|test)\/(NORMAL|PNEUMONIA)\/([^/]+)\.jpeg$/.exec(f);
      expect(m, f).not.toBeNull();
      const [, split, cls, name] = m!;
      expect(cls).toBe(classFolders(2)[labels.get(name)!]);
      perSplit[split] = (perSplit[split] ?? 0) + 1;
    }
    // 0.8 / 0.05 / 0.15 of 40.
    expect(perSplit).toEqual({ train: 32, val: 2, test: 6 });
    expect(result.count).toBe(40);
    expect(result.perSplit.map((s) => s.split)).toEqual(['train', 'val', 'test']);
    const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    expect(result.perSplit.map((s) => sum(s.classes))).toEqual([32, 2, 6]);
  });

  it('writes grey JPEGs of varying sizes around the phantom size', async () => {
    const sizes = new Set<string>();
    for (const f of await files(join(dir, 'a'))) {
      const body = await readFile(join(dir, 'a', f));
      expect([...body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      const meta = await sharp(body).metadata();
      expect(meta.format).toBe('jpeg');
      expect(meta.channels).toBe(1);
      expect(meta.width).toBeGreaterThanOrEqual(Math.floor(64 * 0.92));
      expect(meta.width).toBeLessThanOrEqual(Math.ceil(64 * 1.5 * 1.3));
      expect(meta.height).toBeGreaterThanOrEqual(Math.floor(64 * 0.92));
      expect(meta.height).toBeLessThanOrEqual(Math.ceil(64 * 1.5 * 1.12));
      sizes.add(`${meta.width}x${meta.height}`);
    }
    expect(sizes.size).toBeGreaterThan(20);
    expect(result.width[0]).toBeLessThan(result.width[1]);
  });

  it('is deterministic: the same seed gives the same bytes', async () => {
    await writeImageFolder({ ...OPTS, out: join(dir, 'b') });
    const a = await files(join(dir, 'a'));
    expect(await files(join(dir, 'b'))).toEqual(a);
    for (const f of a.slice(0, 5))
      expect(await readFile(join(dir, 'b', f))).toEqual(await readFile(join(dir, 'a', f)));
  });

  it('splits exactly by largest remainder and refuses bad splits', () => {
    const a = assignSplits(
      10,
      [
        { name: 'x', share: 1 },
        { name: 'y', share: 2 },
      ],
      1,
    );
    expect(a.filter((s) => s === 'x')).toHaveLength(3);
    expect(a.filter((s) => s === 'y')).toHaveLength(7);
    expect(() => assignSplits(10, [{ name: '../up', share: 1 }], 1)).toThrow(/split name/);
    expect(() => assignSplits(10, [{ name: 'a', share: 0 }], 1)).toThrow(/positive/);
    expect(() =>
      assignSplits(
        10,
        [
          { name: 'a', share: 1 },
          { name: 'a', share: 1 },
        ],
        1,
      ),
    ).toThrow(/differ/);
  });
});
