// `camflow audit` on a folder, locally: the clean reference model on held-out phantoms without
// any mask given, the contract's document, the folder --out writes, and bad arguments.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditDocumentSchema } from '@camflow/contracts';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const MODEL = join(import.meta.dirname, '../../../test/fixtures/models/xray-clean');
const tmp = mkdtempSync(join(tmpdir(), 'camflow-audit-'));
const images = join(tmp, 'set', 'images');
// ~150 pneumonia predictions: enough for a decision rather than "inconclusive".
const COUNT = 200;

beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  const rows = ['file,label'];
  for (let i = 0; i < COUNT; i++) {
    // Seed 53 is not among the training seeds; markers on 90% of positives (the clean model ignores them).
    const s = synthesizeSample(
      { count: COUNT, seed: 53, size: 256, shortcut: 0.9, positiveRate: 0.75 },
      i,
    );
    writeFileSync(join(images, `${s.name}.png`), (await encodeSamplePngs(s)).image);
    rows.push(`${s.name}.png,${s.label}`);
  }
  writeFileSync(join(tmp, 'set', 'labels.csv'), `${rows.join('\n')}\n`);
}, 60_000);

describe('camflow audit', () => {
  test('the clean model: no-finding, as one JSON document of the contract, and a folder with its report', async () => {
    const out = join(tmp, 'out');
    const r = await runCli([
      'audit',
      images,
      '--model',
      MODEL,
      '--labels',
      join(tmp, 'set', 'labels.csv'),
      '--json',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const raw = JSON.parse(r.stdout);
    const doc = auditDocumentSchema.parse(raw);
    expect(Object.keys(raw).slice(0, 7)).toEqual([
      'model',
      'images',
      'verdict',
      'findings',
      'atlas',
      'faithfulness',
      'summary',
    ]);
    expect(doc).toMatchObject({
      model: 'xray-clean@1',
      images: COUNT,
      verdict: 'no-finding',
      findings: [],
    });
    expect(doc.atlas.width * doc.atlas.height).toBe(doc.atlas.data.length);
    expect(raw.labelled).toBe(COUNT);
    expect((doc.faithfulness as { images: number }).images).toBeGreaterThan(0);
    for (const f of ['audit.json', 'atlas.png', 'report.html'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const page = readFileSync(join(out, 'report.html'), 'utf8');
    expect(page).toContain('no-finding');
    expect(page).toContain('src="atlas.png"');
  }, 240_000);

  test('bad arguments and unreadable inputs: exit 2 and one line', async () => {
    const cases: [string[], RegExp][] = [
      [['audit', '--model', MODEL], /no inputs given/],
      [
        ['audit', join(tmp, 'nope'), '--model', MODEL],
        /cannot read .*nope: no such file or folder/,
      ],
      [['audit', images], /--model is required/],
      [
        ['audit', tmp, '--model', MODEL, '--labels', join(tmp, 'missing.csv')],
        /cannot read labels/,
      ],
    ];
    writeFileSync(join(tmp, 'bad.csv'), 'name,class\na.png,1\n');
    cases.push([
      ['audit', images, '--model', MODEL, '--labels', join(tmp, 'bad.csv')],
      /must name a file column/,
    ]);
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);
});
