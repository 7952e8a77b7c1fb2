import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import {
  addJobs,
  completed,
  failed,
  get,
  OUTPUT_BUCKET,
  png,
  publish,
  seedRun,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

const EVIL = '<script>alert(1)</script>.png';
let services: TestServices;
let redis: Redis;
let api: ResultsService;

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, {
    port: 0,
    logger: createLogger('results-test', 'silent'),
    indexer: { blockMs: 200 },
  });
  await seedRun(redis, { runId: 'audit', source: { bucket: 'data', manifest: 'labels.csv' } });
  const t = Date.now() - 60_000;
  // label 1 = positive. Predictions: score >= 0.5 -> 1.
  const rows = [
    { jobId: 'tp1', score: 0.9, label: 1 },
    { jobId: 'tp2', score: 0.8, label: '1' },
    { jobId: 'fp1', score: 0.7, label: 0 },
    { jobId: 'tn1', score: 0.2, label: 0 },
    { jobId: 'fn1', score: 0.3, label: 1 },
    { jobId: 'evil', score: 0.95, label: 0, key: `odd/${EVIL}`, borderEnergy: 0.8 },
  ];
  await addJobs(redis, 'audit', [...rows.map((r) => r.jobId), 'broken']);
  for (const [i, r] of rows.entries()) {
    const ev = completed({ runId: 'audit', finishedAt: t + i * 1000, ...r });
    await services.store.put(OUTPUT_BUCKET, ev.outputs.overlayKey, png(8, 8), 'image/png');
    await publish(redis, ev);
  }
  await publish(redis, failed({ jobId: 'broken', runId: 'audit', reason: 'decode' }));
  await waitFor(
    async () => (await get(api.port, '/v1/runs/audit', TOKENS.owner)).body.status === 'completed',
  );
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

describe('report', () => {
  it('is one self-contained page: summary, plots, evaluation, flagged images first, escaped keys', async () => {
    const res = await get(api.port, '/v1/runs/audit/report', TOKENS.owner);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = res.text;
    // Nothing executable and nothing external but the overlays.
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.png');
    expect(html).not.toMatch(/<link|@import/);
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
    // The flagged card comes first in the gallery.
    const cards = [...html.matchAll(/data-job="([^"]+)"/g)].map((m) => m[1]);
    expect(cards[0]).toBe('evil');
    expect(cards).toHaveLength(6);
    expect(html).toMatch(/class="card flagged" data-job="evil"/);
    // Labels: 2 TP, 2 FP (fp1, evil), 1 FN, 1 TN -> accuracy 3/6.
    expect(html).toContain('accuracy <b>0.500</b> (3 of 6 labelled images)');
    for (const o of ['TP', 'FP', 'FN', 'TN']) expect(html).toContain(`<td class="k">${o}</td>`);
    expect(html).toContain('Failures (1)');
    const src = /<img src="([^"]+)"/.exec(html)?.[1].replaceAll('&amp;', '&') ?? '';
    expect((await fetch(src)).status).toBe(200);
  });

  it('limits the gallery and says so', async () => {
    const res = await get(api.port, '/v1/runs/audit/report?limit=2', TOKENS.owner);
    expect([...res.text.matchAll(/data-job="/g)]).toHaveLength(2);
    expect(res.text).toContain('Showing 2 of 6 images');
  });

  it('keeps each run its own labels for a shared job', async () => {
    // A second run replays a stored result (as ingest does) with another label.
    await seedRun(redis, { runId: 'audit-2' });
    await addJobs(redis, 'audit-2', ['tp1']);
    const stored = JSON.parse((await redis.get('camflow:result:tp1')) as string);
    await publish(redis, { ...stored, runId: 'audit-2', label: 0 });
    await waitFor(
      async () => (await get(api.port, '/v1/runs/audit-2', TOKENS.owner)).body.completed === 1,
    );
    const a = await get(api.port, '/v1/runs/audit/results?limit=1', TOKENS.owner);
    const b = await get(api.port, '/v1/runs/audit-2/results', TOKENS.owner);
    expect(a.body.items[0]).toMatchObject({ jobId: 'tp1', label: 1 });
    expect(b.body.items[0]).toMatchObject({ jobId: 'tp1', label: 0 });
  });
});
