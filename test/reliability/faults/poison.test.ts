// Fault: poison jobs. Images that crash decoding (a truncated PNG, a PNG declaring 50,000 x 50,000
// pixels, bytes that are no image) sit first in a run of good ones: each fails for good after
// exactly one attempt with its reason, and every other image completes.
import { QUEUES } from '@camflow/contracts';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { recordFigures } from '../support/figures.js';
import { hugeDeclaredPng, truncatedPng, uploadImages } from '../support/images.js';
import { metricSum } from '../support/metrics.js';
import { countOutcomes, exactlyOnce, outcomeFigures } from '../support/outcomes.js';
import { DATA_BUCKET, MODEL, Pipeline } from '../support/pipeline.js';

const GOOD = 60;
let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start();
}, 120_000);

afterAll(async () => {
  await p?.close();
});

test('poison images fail permanently after one attempt and block nothing', async () => {
  const prefix = 'poison/';
  // Listed first ('a-' sorts before 'img-'), so they are taken before the good images.
  const poison: Record<string, { bytes: Buffer; reasons: string[] }> = {
    [`${prefix}a-truncated.png`]: {
      bytes: await truncatedPng(),
      reasons: ['truncated', 'corrupt'],
    },
    [`${prefix}a-bomb.png`]: { bytes: hugeDeclaredPng(), reasons: ['too-large'] },
    [`${prefix}a-text.png`]: {
      bytes: Buffer.from('this is not an image\n'),
      reasons: ['unsupported-format', 'corrupt'],
    },
  };
  const good = await uploadImages(p.store, DATA_BUCKET, prefix, GOOD);
  for (const [key, { bytes }] of Object.entries(poison))
    await p.store.put(DATA_BUCKET, key, bytes, 'image/png');
  const keys = [...Object.keys(poison), ...good];

  const started = Date.now();
  const runId = await p.api.submitRun({ model: MODEL, source: { bucket: DATA_BUCKET, prefix } });
  const status = await p.api.waitFor(runId);
  const seconds = (Date.now() - started) / 1000;
  const items = await p.api.results(runId);
  const o = countOutcomes(items, keys);

  const failed = items.filter((i) => i.status === 'failed');
  const reasons = Object.fromEntries(failed.map((i) => [i.source.key, i.error?.reason]));
  const attemptsStarted = await Promise.all(
    failed.map(async (i) =>
      Number(await p.inspect().hget(`bull:${QUEUES.bulk}:${i.jobId}`, 'ats')),
    ),
  );
  const metrics = await p.workerMetrics(0);
  const retried = metricSum(metrics, 'camflow_worker_failures_total', { retry: 'true' });
  const permanent = metricSum(metrics, 'camflow_worker_failures_total', { retry: 'false' });
  const reasonsOk = Object.entries(poison).every(([key, { reasons: ok }]) =>
    ok.includes(reasons[key] ?? ''),
  );
  const pass =
    exactlyOnce(o) &&
    status.status === 'completed' &&
    o.completed === GOOD &&
    o.failed === 3 &&
    reasonsOk &&
    attemptsStarted.every((n) => n === 1) &&
    retried === 0 &&
    permanent === 3;
  recordFigures('faults', {
    case: 'poison jobs',
    injected:
      '3 undecodable images (truncated PNG, PNG declaring 50,000 x 50,000 px, text) listed before 60 good ones',
    expected:
      'each fails permanently with its reason after exactly 1 attempt; the 60 others complete',
    pass,
    ...outcomeFigures(o),
    failedReasons: o.failedReasons,
    poisonAttempts: attemptsStarted,
    retries: retried,
    runSeconds: seconds,
  });

  expect(o.lost).toEqual([]);
  expect(o.duplicated).toEqual([]);
  expect(status).toMatchObject({
    status: 'completed',
    total: GOOD + 3,
    completed: GOOD,
    failed: 3,
  });
  expect(reasons[`${prefix}a-bomb.png`]).toBe('too-large');
  expect(reasonsOk, JSON.stringify(reasons)).toBe(true);
  for (const f of failed) expect(f.error?.message).toBeTruthy();
  expect(attemptsStarted).toEqual([1, 1, 1]);
  expect(retried).toBe(0);
  expect(permanent).toBe(3);
}, 120_000);
