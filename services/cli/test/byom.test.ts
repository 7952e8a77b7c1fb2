// Bring your own model through `camflow explain`: the issue-16 exports (test/reference/
// camflow_ref/byom.py), their scores and predicted label sets against PyTorch's, targets by
// class name and repeated, the empty map of a saturated output flagged, a card that does not
// fit its model refused.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'byom/expected.json'), 'utf8'));
const images = (expected.keys as string[]).map((k) => join(FIXTURES, 'byom', k));
const cxr = join(FIXTURES, 'models/cxr14-tiny');
const tri = join(FIXTURES, 'models/tri-tiny');

interface Item {
  scores: number[];
  target: number;
  predicted?: number;
  labels?: number[];
  empty?: { reason: string; message: string };
  cams?: { target: number; className?: string; score: number; empty?: { reason: string } }[];
}

async function explain(args: string[]): Promise<{ items: Item[]; stderr: string }> {
  const r = await runCli(['explain', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { items: JSON.parse(r.stdout).items, stderr: r.stderr };
}

describe('a 14-label sigmoid model', () => {
  test("scores and predicted label sets as PyTorch's, one map per predicted label by default; the saturated label's empty map flagged", async () => {
    const { items, stderr } = await explain([...images, '--model', cxr]);
    const ref = expected['cxr14-tiny'];
    const classes: string[] = ref.classes;
    expect(items).toHaveLength(images.length);
    items.forEach((it, i) => {
      const worst = Math.max(...it.scores.map((s, k) => Math.abs(s - ref.scores[i][k])));
      expect(worst).toBeLessThan(2e-6);
      expect(it.labels?.map((k) => classes[k])).toEqual(ref.predicted[i]);
      expect(it.cams?.map((c) => c.className)).toEqual(ref.predicted[i]);
      for (const c of it.cams ?? []) expect(c.score).toBeCloseTo(it.scores[c.target], 6);
      const hernia = it.cams?.find((c) => c.className === ref.saturated);
      expect(hernia?.empty?.reason).toBe('saturated');
      expect(it.cams?.filter((c) => c.empty)).toHaveLength(1);
    });
    expect(stderr.split('\n').filter((l) => l.includes('empty CAM'))).toHaveLength(images.length);
    expect(stderr).toMatch(/cxr01\.png: empty CAM: the Hernia score is 1 \(a saturated sigmoid/);
  });

  test('--target by class name, repeated: a list in that order; conflicts and unknown names refused', async () => {
    const { items } = await explain([
      images[0],
      '--model',
      cxr,
      '--target',
      'Pneumonia',
      '--target',
      '2',
      '--target',
      'effusion,Hernia',
    ]);
    expect(items[0].cams?.map((c) => [c.target, c.className])).toEqual([
      [6, 'Pneumonia'],
      [2, 'Effusion'],
      [2, 'Effusion'],
      [13, 'Hernia'],
    ]);
    expect(items[0].target).toBe(6);
    const mixed = await runCli([
      'explain',
      images[0],
      '--model',
      cxr,
      '--target',
      'all',
      '--target',
      '2',
    ]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--target all cannot be combined with other targets/);
    const unknown = await runCli(['explain', images[0], '--model', cxr, '--target', 'Hernai']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /"Hernai" is not a class of cxr14-tiny@1; its classes: Atelectasis, /,
    );
  });
});

describe('a 3-class softmax model', () => {
  test('the argmax as predicted; a target by name', async () => {
    const { items } = await explain([
      ...images.slice(0, 4),
      '--model',
      tri,
      '--target',
      'pneumonia',
    ]);
    const ref = expected['tri-tiny'];
    items.forEach((it, i) => {
      expect(ref.classes[it.predicted as number]).toBe(ref.predicted[i]);
      expect(it.target).toBe(1);
      expect(it.labels).toBeUndefined();
    });
  });

  test('a card that does not fit the model: exit 2, one line naming both sides', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'camflow-byom-cli-'));
    const card = JSON.parse(readFileSync(join(tri, 'model.json'), 'utf8'));
    card.output.classes = ['normal', 'pneumonia'];
    writeFileSync(join(dir, 'two.json'), JSON.stringify(card));
    const r = await runCli([
      'explain',
      images[0],
      '--model',
      join(tri, 'model.onnx'),
      '--card',
      join(dir, 'two.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /two\.json does not fit .*tri-tiny\/model\.onnx: output\.classes: the card names 2 classes, but the model's output "output" is \[N, 3\]: 3 scores per image/,
    );
  });
});
