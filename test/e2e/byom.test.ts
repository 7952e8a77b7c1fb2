// Bring your own model, end to end: the two reference exports of issue 16 (a 3-class softmax and
// a 14-label sigmoid ResNet, test/reference/camflow_ref/byom.py) pushed, run over their manifests
// through the pipeline, their status figures checked against PyTorch's (test/fixtures/byom/
// expected.json), and their reports opened in headless Chromium from a signed link. Real
// redis-server, s3rver, ONNX Runtime; the services in this process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushModel } from '@camflow/ingest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, launchChromium } from '../support/browser.js';
import {
  callJson,
  type InProcessPipeline,
  poll,
  startInProcessPipeline,
} from '../support/in-process.js';

const TOKEN = 'byom-e2e-admin-token-0123';
const FIXTURES = join(import.meta.dirname, '../fixtures');
const BYOM = join(FIXTURES, 'byom');
const expected = JSON.parse(readFileSync(join(BYOM, 'expected.json'), 'utf8'));

let stack: InProcessPipeline;
const api = <T = Record<string, unknown>>(url: string, init: RequestInit = {}) =>
  callJson<T>(url, TOKEN, init);

/** Runs `model` over a manifest and waits for it; returns the run id. */
async function run(model: string, manifest: string, extra: Record<string, unknown> = {}) {
  const created = await api<{ runId: string }>(`http://127.0.0.1:${stack.ingest.port}/v1/runs`, {
    method: 'POST',
    body: JSON.stringify({ model, source: { bucket: 'byom', manifest }, ...extra }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const runId = created.body.runId;
  await poll(
    () => api<{ status: string }>(`http://127.0.0.1:${stack.results.port}/v1/runs/${runId}`),
    (r) => r.body.status === 'completed' || r.body.status === 'failed',
    120_000,
  );
  return runId;
}

/** A result as the API lists it (the fields this test reads). */
interface Item {
  source: { key: string };
  prediction: { scores: number[]; predicted: number; labels: number[] };
  cams: { className: string; score: number }[];
}

interface LabelRow {
  name: string;
  sensitivity: number | null;
  specificity: number | null;
  auc: number | null;
}

beforeAll(async () => {
  const env = {
    BATCH_SIZE: '8',
    WORKER_CONCURRENCY: '4',
    CAMFLOW_API_TOKENS: JSON.stringify({ [TOKEN]: { scopes: ['admin'], buckets: ['*'] } }),
  };
  stack = await startInProcessPipeline(env, async (svc) => {
    for (const name of ['tri-tiny', 'cxr14-tiny']) {
      const dir = join(FIXTURES, 'models', name);
      await pushModel(svc.store, svc.config, {
        onnxPath: join(dir, 'model.onnx'),
        cardPath: join(dir, 'model.json'),
      });
    }
    await svc.store.ensureBucket('byom');
    for (const key of expected.keys as string[])
      await svc.store.put('byom', key, readFileSync(join(BYOM, key)), 'image/png');
    for (const m of ['multiclass.csv', 'multilabel.csv'])
      await svc.store.put('byom', m, readFileSync(join(BYOM, m)), 'text/csv');
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('bring your own model through the pipeline', () => {
  test('14 sigmoid labels: predicted sets and per-label figures as PyTorch has them; two targets named in the report', async () => {
    const ref = expected['cxr14-tiny'];
    const runId = await run('cxr14-tiny@1', 'multilabel.csv', {
      targets: ['Pneumonia', 'Effusion'],
    });
    const base = `http://127.0.0.1:${stack.results.port}/v1/runs/${runId}`;
    const page = await api<{ items: Item[] }>(`${base}/results?limit=100`);
    const byKey = new Map(page.body.items.map((i) => [i.source.key, i]));
    expect(byKey.size, JSON.stringify(page.body).slice(0, 600)).toBe(ref.predicted.length);
    for (const [i, key] of (expected.keys as string[]).entries()) {
      const item = byKey.get(key)!;
      const set = (item.prediction.labels as number[]).map((k) => ref.classes[k]);
      expect(set, key).toEqual(ref.predicted[i]);
      // One CAM per target, each named by its class with that class's own score.
      expect(item.cams, JSON.stringify(item).slice(0, 900)).toBeDefined();
      expect(item.cams.map((c: { className: string }) => c.className)).toEqual([
        'Pneumonia',
        'Effusion',
      ]);
      for (const c of item.cams)
        expect(c.score).toBeCloseTo(item.prediction.scores[ref.classes.indexOf(c.className)], 6);
    }
    const status = await api<{ labelFigures: { classes: LabelRow[] } }>(base);
    for (const row of status.body.labelFigures.classes) {
      const want = ref.perLabel[row.name];
      for (const k of ['sensitivity', 'specificity', 'auc'] as const) {
        if (want[k] === null) expect(row[k], `${row.name} ${k}`).toBeNull();
        else expect(row[k], `${row.name} ${k}`).toBeCloseTo(want[k], 9);
      }
    }
    await openReport(runId, 'byom-cxr14', async (p) => {
      expect(await p.locator('table', { hasText: 'sensitivity' }).first().isVisible()).toBe(true);
      const text = (await p.locator('body').textContent()) ?? '';
      expect(text).toMatch(/CAM: Pneumonia \d\.\d+/);
      expect(text).toMatch(/CAM: Effusion \d\.\d+/);
    });
  }, 240_000);

  test('3 softmax classes: accuracy as PyTorch has it; each CAM named by class; the report opens', async () => {
    const ref = expected['tri-tiny'];
    const runId = await run('tri-tiny@1', 'multiclass.csv', { targets: { top: 2 } });
    const base = `http://127.0.0.1:${stack.results.port}/v1/runs/${runId}`;
    const status = await api<{ labelFigures: { accuracy: number } }>(base);
    expect(status.body.labelFigures.accuracy).toBeCloseTo(ref.accuracy, 9);
    const page = await api<{ items: Item[] }>(`${base}/results?limit=100`);
    for (const item of page.body.items) {
      const names = item.cams.map((c: { className: string }) => c.className);
      expect(names).toHaveLength(2);
      expect(names[0]).toBe(ref.classes[item.prediction.predicted]);
    }
    await openReport(runId, 'byom-tri', async (p) => {
      expect((await p.locator('body').textContent()) ?? '').toMatch(
        /CAM: (normal|pneumonia|cardiomegaly)/,
      );
    });
  }, 240_000);
});

/** Opens the run's report from a signed link in Chromium; checks its images load; a screenshot. */
async function openReport(
  runId: string,
  name: string,
  check: (page: import('playwright-core').Page) => Promise<void>,
) {
  if (!hasChromium()) {
    if (process.env.CI) throw new Error('CI=true but Chromium is missing at /usr/bin/chromium');
    return;
  }
  const link = await api<{ path: string }>(
    `http://127.0.0.1:${stack.results.port}/v1/runs/${runId}/links`,
    { method: 'POST', body: '{}' },
  );
  expect(link.status).toBe(201);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const res = await page.goto(`http://127.0.0.1:${stack.results.port}${link.body.path}`, {
      waitUntil: 'load',
    });
    expect(res?.status()).toBe(200);
    const broken = await page.evaluate(() =>
      [...document.images]
        .filter((img) => img.loading !== 'lazy')
        .filter((img) => !(img.complete && img.naturalWidth > 0))
        .map((img) => img.currentSrc),
    );
    expect(broken).toEqual([]);
    await check(page);
    const dir = process.env.CAMFLOW_TEST_ARTIFACTS ?? stack.svc.dir;
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  } finally {
    await browser.close();
  }
}
