// The data-set audit through the pipeline: a run of held-out phantoms with hospital markers is
// explained by the shortcut reference model; when its last result is indexed the results API
// queues the audit, workers run it (statistics, occlusion chunks as a BullMQ flow, verdict) and
// `GET /v1/runs/:runId/audit` serves the document. Real redis-server, s3rver, ONNX Runtime; the
// services in this process.
import { join } from 'node:path';
import { auditDocumentSchema } from '@camflow/contracts';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, launchChromium } from '../support/browser.js';
import {
  callJson,
  type InProcessPipeline,
  poll,
  startInProcessPipeline,
} from '../support/in-process.js';

const TOKEN = 'audit-e2e-admin-token-0123';
const OTHER = 'audit-e2e-other-token-4567';
const MODELS = join(import.meta.dirname, '../fixtures/models');
// Enough predicted positives (~180) for the audit to tell the markers' isolated clusters from
// pathology that clusters in the lungs; with fewer it says inconclusive.
const IMAGES = 240;

let stack: InProcessPipeline;
const api = <T = Record<string, unknown>>(url: string, init: RequestInit = {}, token = TOKEN) =>
  callJson<T>(url, token, init);
let shortcutRun = '';
let cleanRun = '';

beforeAll(async () => {
  const env = {
    BATCH_SIZE: '8',
    WORKER_CONCURRENCY: '8',
    CAMFLOW_API_TOKENS: JSON.stringify({
      [TOKEN]: { scopes: ['admin'], buckets: ['*'] },
      [OTHER]: { scopes: ['runs:write', 'results:read'], buckets: ['*'] },
    }),
  };
  stack = await startInProcessPipeline(env, async (svc) => {
    for (const name of ['xray-shortcut', 'xray-clean']) {
      const dir = join(MODELS, name);
      await pushModel(svc.store, svc.config, {
        onnxPath: join(dir, 'model.onnx'),
        cardPath: join(dir, 'model.json'),
        name,
        version: '1',
      });
    }
    await svc.store.ensureBucket('phantoms');
    // Held-out phantoms (seed 31 is not among the training seeds 21/22), markers on 95% of positives.
    const rows = ['key,label'];
    for (let i = 0; i < IMAGES; i++) {
      const s = synthesizeSample(
        { count: IMAGES, seed: 31, size: 256, shortcut: 0.95, positiveRate: 0.75 },
        i,
      );
      await svc.store.put(
        'phantoms',
        `set/${s.name}.png`,
        (await encodeSamplePngs(s)).image,
        'image/png',
      );
      rows.push(`set/${s.name}.png,${s.label}`);
    }
    await svc.store.put('phantoms', 'set/labels.csv', `${rows.join('\n')}\n`, 'text/csv');
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('the audit of a pipeline run', () => {
  test('a run of marked phantoms: shortcut-suspected, findings at the marker corners, pictures stored', async () => {
    const created = await api<{ runId: string }>(`http://127.0.0.1:${stack.ingest.port}/v1/runs`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'xray-shortcut@1',
        source: { bucket: 'phantoms', manifest: 'set/labels.csv' },
      }),
    });
    expect(created.status).toBe(202);
    const base = `http://127.0.0.1:${stack.results.port}/v1/runs/${created.body.runId}`;
    // While the run goes on, the audit answers 200 with what is known so far.
    const early = await api<{ status: string; verdict: unknown }>(`${base}/audit`);
    expect(early.status).toBe(200);
    expect(early.body.status).toBe('pending');
    expect(early.body.verdict).toBeNull();

    const audit = await poll(
      () => api<Record<string, unknown>>(`${base}/audit`),
      (r) => r.body.status === 'done' || r.body.status === 'failed',
      240_000,
    );
    expect(audit.body.status, JSON.stringify(audit.body).slice(0, 300)).toBe('done');
    const doc = auditDocumentSchema.parse(audit.body);
    expect(doc.images).toBe(IMAGES);
    expect(doc.verdict).toBe('shortcut-suspected');
    expect(doc.findings.length).toBeGreaterThanOrEqual(1);
    for (const f of doc.findings) {
      expect(f.class).toBe(1);
      expect(f.className).toBe('pneumonia');
      // Markers sit within 9% of two edges of the image: every finding box touches a corner.
      const nearX = f.box.x <= 0.1 || f.box.x + f.box.width >= 0.9;
      const nearY = f.box.y <= 0.1 || f.box.y + f.box.height >= 0.9;
      expect(nearX && nearY, JSON.stringify(f.box)).toBe(true);
      expect(f.occlusion.scoreDrop).toBeGreaterThan(f.occlusion.controlScoreDrop);
      expect(f.examples.every((e) => e.startsWith('s3://phantoms/set/'))).toBe(true);
    }
    expect(doc.atlas.data).toHaveLength(doc.atlas.width * doc.atlas.height);
    expect((doc.faithfulness as { images: number }).images).toBeGreaterThan(0);
    // The atlas picture and the findings' examples are stored and presigned.
    const atlas = await fetch(audit.body.atlasUrl as string);
    expect(atlas.status).toBe(200);
    expect(
      Buffer.from(await atlas.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const examples = (audit.body.findings as { exampleUrls: string[] }[]).flatMap(
      (f) => f.exampleUrls,
    );
    expect(examples.length).toBeGreaterThan(0);
    expect((await fetch(examples[0])).status).toBe(200);
    // Another token that may not see the run gets the same 404 as for a run that does not exist.
    expect((await api(`${base}/audit`, {}, OTHER)).status).toBe(404);
    shortcutRun = created.body.runId;
  }, 300_000);

  test('the clean model over the same phantoms: no-finding', async () => {
    const created = await api<{ runId: string }>(`http://127.0.0.1:${stack.ingest.port}/v1/runs`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'xray-clean@1',
        source: { bucket: 'phantoms', manifest: 'set/labels.csv' },
      }),
    });
    const audit = await poll(
      () =>
        api<Record<string, unknown>>(
          `http://127.0.0.1:${stack.results.port}/v1/runs/${created.body.runId}/audit`,
        ),
      (r) => r.body.status === 'done' || r.body.status === 'failed',
      240_000,
    );
    expect(audit.body.verdict, String(audit.body.summary)).toBe('no-finding');
    expect(audit.body.findings).toEqual([]);
    cleanRun = created.body.runId;
  }, 300_000);

  // Not skipped where Chromium is missing: CI installs it, so a missing browser is a failure.
  test('the report and the compare page open in a browser from a signed link, their pictures loaded', async () => {
    expect(hasChromium(), 'Debian chromium (/usr/bin/chromium) is needed').toBe(true);
    const link = await api<{ path: string; link: string }>(
      `http://127.0.0.1:${stack.results.port}/v1/runs/${shortcutRun}/links`,
      { method: 'POST', body: JSON.stringify({ runs: [cleanRun] }) },
    );
    expect(link.status).toBe(201);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // The images the page loads at once ('load' waited for them; the gallery's later ones load
      // lazily on scroll, and decode() on those would wait for a scroll that never comes).
      const loaded = () =>
        page.evaluate(() =>
          [...document.images]
            .filter((img) => img.loading !== 'lazy')
            .map((img) => ({ src: img.currentSrc, ok: img.complete && img.naturalWidth > 0 })),
        );
      // No Authorization header: the link alone opens it.
      const report = await page.goto(`http://127.0.0.1:${stack.results.port}${link.body.path}`, {
        waitUntil: 'load',
      });
      expect(report?.status()).toBe(200);
      await expect
        .poll(() => page.locator('.verdict .badge').first().textContent())
        .toBe('shortcut-suspected');
      expect(await page.locator('.verdict').first().isVisible()).toBe(true);
      expect(await page.locator('.atlas img').isVisible()).toBe(true);
      const images = await loaded();
      expect(images.filter((i) => !i.ok)).toEqual([]);
      expect(images.length).toBeGreaterThanOrEqual(4);
      const dir = process.env.CAMFLOW_TEST_ARTIFACTS ?? stack.svc.dir;
      await page.screenshot({ path: join(dir, 'audit-report.png'), fullPage: false });
      // The compare page, from the report's link (the signed link covers both runs).
      await page.locator('a', { hasText: 'xray-clean@1' }).first().click();
      await page.waitForLoadState('load');
      expect(page.url()).toContain('/v1/compare?runs=');
      const panes = page.locator('.pane h3');
      expect(await panes.allTextContents()).toEqual(['xray-shortcut@1', 'xray-clean@1']);
      expect(await page.locator('.pane .badge').allTextContents()).toEqual([
        'shortcut-suspected',
        'no-finding',
      ]);
      expect((await loaded()).filter((i) => !i.ok)).toEqual([]);
      await page.screenshot({ path: join(dir, 'audit-compare.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  }, 120_000);

  test('a run that says audit: false is not audited, and says how to start it', async () => {
    const created = await api<{ runId: string }>(`http://127.0.0.1:${stack.ingest.port}/v1/runs`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'xray-shortcut@1',
        source: { bucket: 'phantoms', keys: ['set/img_00000.png', 'set/img_00001.png'] },
        audit: false,
      }),
    });
    const base = `http://127.0.0.1:${stack.results.port}/v1/runs/${created.body.runId}`;
    await poll(
      () => api<{ status: string }>(base),
      (r) => r.body.status === 'completed',
      60_000,
    );
    const a = await api<{ status: string; requested: boolean; message: string }>(`${base}/audit`);
    expect(a.body).toMatchObject({ status: 'pending', requested: false });
    expect(a.body.message).toMatch(/asked for no audit; POST .*\/audit starts it/);
  }, 120_000);
});
