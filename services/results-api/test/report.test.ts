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
  storeAudit,
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
    {
      jobId: 'evil',
      score: 0.95,
      label: EVIL,
      key: `odd/${EVIL}`,
      camCell: [0, 0] as [number, number],
    },
  ];
  await addJobs(redis, 'audit', [...rows.map((r) => r.jobId), 'broken']);
  for (const [i, r] of rows.entries()) {
    const ev = completed({ runId: 'audit', finishedAt: t + i * 1000, ...r });
    // A DICOM source: the report names its study by UID (patient data never reaches events).
    if (r.jobId === 'tp1')
      ev.source.dicom = {
        studyInstanceUID: '1.2.826.0.1.42',
        seriesInstanceUID: '1.2.3',
        sopInstanceUID: '1.2.4',
      };
    await services.store.put(OUTPUT_BUCKET, ev.outputs.overlayKey, png(8, 8), 'image/png');
    await publish(redis, ev);
  }
  await publish(redis, {
    ...failed({ jobId: 'broken', runId: 'audit', reason: 'decode' }),
    error: { reason: 'decode', message: EVIL },
  });
  await storeAudit(redis, 'audit', [
    {
      className: EVIL,
      place: EVIL,
      box: { x: 0, y: 0, width: 0.2, height: 0.2 },
      examples: [EVIL],
    },
  ]);
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
  it('is one self-contained page: the verdict first, findings, the run, plots, evaluation, the images carrying a region first, everything escaped', async () => {
    const res = await get(api.port, '/v1/runs/audit/report', TOKENS.owner);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of [
      "default-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(d);
    // Images only from the object store's origin (presigned URLs) and inline data.
    expect(csp).toMatch(new RegExp(`img-src ${new URL(services.env.S3_ENDPOINT).origin} data:`));
    const html = res.text;
    // Nothing executable and nothing external but the images.
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.png');
    expect(html).not.toMatch(/<link|@import/);
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
    // A real title; the verdict comes before the run's details.
    expect(html).toMatch(/<title>Audit of xray@1 on s3:\/\/data\/labels.csv<\/title>/);
    expect(html.indexOf('shortcut-suspected')).toBeLessThan(html.indexOf('<h2>The run</h2>'));
    expect(html).toContain('Shortcut suspected: a test audit.');
    expect(html).toMatch(/<h3>Finding 1: &lt;script&gt;/);
    // The image carrying the finding's region comes first in the gallery, tagged.
    const cards = [...html.matchAll(/data-job="([^"]+)"/g)].map((m) => m[1]);
    expect(cards[0]).toBe('evil');
    expect(cards).toHaveLength(6);
    expect(html).toMatch(/class="card flagged" data-job="evil"/);
    expect(html).toContain('finding 1: &lt;script&gt;');
    // The layer the results used, not "the model card's".
    expect(html).toMatch(/<td>layer<\/td><td class="k">features.4<\/td>/);
    // Links to the full-size overlay and the result JSON.
    expect(html).toMatch(/<a href="[^"]+" title="full-size overlay">/);
    expect(html).toContain('>result JSON</a>');
    // Labels: 2 TP, 1 FP, 1 FN, 1 TN -> accuracy 3/5 (evil's label names no class: not counted, but shown escaped).
    expect(html).toContain('accuracy <b>0.600</b> (3 of 5 labelled images)');
    for (const o of ['TP', 'FP', 'FN', 'TN']) expect(html).toContain(`<td class="k">${o}</td>`);
    expect(html).toContain('Failures (1)');
    // How to read an overlay: the colour bar and the hatching of what the crop cut away.
    expect(html).toContain('hatched grey: not seen by the model');
    expect(html).toMatch(
      /data-job="tp1">[\s\S]*?<div class="muted">study 1\.2\.826\.0\.1\.42<\/div>/,
    );
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

  it('opens in a browser with a signed link: that run only, read-only, until it expires', async () => {
    const post = await fetch(`http://127.0.0.1:${api.port}/v1/runs/audit/links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ expiresIn: 120 }),
    });
    expect(post.status).toBe(201);
    const link = (await post.json()) as { path: string; link: string; expiresAt: string };
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(100_000);
    const open = await fetch(`http://127.0.0.1:${api.port}${link.path}`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('Shortcut suspected: a test audit.');
    const q = `link=${encodeURIComponent(link.link)}`;
    expect((await fetch(`http://127.0.0.1:${api.port}/v1/runs/audit/audit?${q}`)).status).toBe(200);
    // Another run, and routes a link does not open: 404 and 401 as without a token.
    expect((await fetch(`http://127.0.0.1:${api.port}/v1/runs/audit-2/report?${q}`)).status).toBe(
      404,
    );
    expect((await fetch(`http://127.0.0.1:${api.port}/v1/runs/audit/results?${q}`)).status).toBe(
      401,
    );
    expect((await fetch(`http://127.0.0.1:${api.port}/v1/runs?${q}`)).status).toBe(401);
    const tampered = link.link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(
      (
        await fetch(
          `http://127.0.0.1:${api.port}/v1/runs/audit/report?link=${encodeURIComponent(tampered)}`,
        )
      ).status,
    ).toBe(401);
    // A token that may not see the run cannot make a link to it.
    const other = await fetch(`http://127.0.0.1:${api.port}/v1/runs/audit/links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.other}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(other.status).toBe(404);
  });

  it('compares two runs side by side: verdicts, accuracy, where their peaks disagree', async () => {
    // audit-b: the same images, peaks moved away from the corner for two of them.
    await seedRun(redis, { runId: 'audit-b', source: { bucket: 'data', manifest: 'labels.csv' } });
    await addJobs(redis, 'audit-b', ['b-tp1', 'b-evil']);
    await publish(
      redis,
      completed({
        jobId: 'b-tp1',
        runId: 'audit-b',
        key: 'chest/tp1.png',
        score: 0.9,
        camCell: [7, 7],
      }),
    );
    await publish(
      redis,
      completed({
        jobId: 'b-evil',
        runId: 'audit-b',
        key: `odd/${EVIL}`,
        score: 0.95,
        camCell: [4, 4],
      }),
    );
    await waitFor(
      async () => (await get(api.port, '/v1/runs/audit-b', TOKENS.owner)).body.completed === 2,
    );
    const report = await get(api.port, '/v1/runs/audit/report', TOKENS.owner);
    expect(report.text).toContain('/v1/compare?runs=audit%2Caudit-b');
    const res = await get(api.port, '/v1/compare?runs=audit,audit-b', TOKENS.owner);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.text).toContain('<title>Compare xray@1 vs xray@1 on s3://data/labels.csv</title>');
    // Only odd/<EVIL> has a CAM in both runs (tp1 has none in run "audit"): its peaks are far apart.
    expect(res.text).toMatch(
      /On the 1 images every run explained, the CAM peaks lie more than 10% of the image apart on <b>100%<\/b>/,
    );
    expect(res.text).not.toContain('<script');
    expect((await get(api.port, '/v1/compare?runs=audit', TOKENS.owner)).status).toBe(400);
    expect((await get(api.port, '/v1/compare?runs=audit,theirs-nope', TOKENS.owner)).status).toBe(
      404,
    );
  });
});
