// Fast fault cases (they run in `npm test`), on one pipeline of real processes:
// - duplicate deliveries: the same S3 notification posted 5 times at once (and 5 times more after
//   it was processed), the same run submitted again while it runs and after it finished: every
//   image is explained exactly once (one attempt, one set of outputs) and every run lists exactly
//   one result per image, with the first computation's finishedAt;
// - poison jobs: images that crash decoding (a truncated PNG, a PNG declaring 50,000 x 50,000
//   pixels, bytes that are no image) listed first in a run of good ones: each fails for good after
//   exactly one attempt with its reason, and every other image completes.
import { QUEUES } from '@camflow/contracts';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { recordFigures } from '../support/figures.js';
import { hugeDeclaredPng, truncatedPng, uploadImages } from '../support/images.js';
import { metricSum } from '../support/metrics.js';
import {
  countOutcomes,
  exactlyOnce,
  outcomeFigures,
  type ResultItem,
} from '../support/outcomes.js';
import { DATA_BUCKET, EVENTS_BUCKET, MODEL, Pipeline } from '../support/pipeline.js';

const N = 30;
const GOOD = 40;
let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start();
}, 120_000);

afterAll(async () => {
  await p?.close();
});

/** The worker's counter `name` (labels matching), for before/after differences. */
const counter = async (name: string, labels: Record<string, string> = {}) =>
  metricSum(await p.workerMetrics(0), name, labels);

/** jobId -> finishedAt of a run's results. */
const finishedAt = (items: ResultItem[]) =>
  Object.fromEntries(items.map((i) => [i.jobId, i.finishedAt]));

/** BullMQ's attempts-started count of each job. */
const attemptsStarted = (jobIds: string[], queue: string) =>
  Promise.all(
    jobIds.map(async (id) => Number(await p.inspect().hget(`bull:${queue}:${id}`, 'ats'))),
  );

test('duplicate notifications and re-submitted runs do no duplicate work', async () => {
  const doneBefore = await counter('camflow_worker_jobs_total', { outcome: 'completed' });
  // Bucket events: one notification naming N new objects, delivered 5 times concurrently.
  const eventKeys = await uploadImages(p.store, EVENTS_BUCKET, 'ward/', N);
  const records = await Promise.all(
    eventKeys.map(async (key) => ({
      eventName: 's3:ObjectCreated:Put',
      eventTime: new Date().toISOString(),
      s3: {
        bucket: { name: EVENTS_BUCKET },
        object: { key, eTag: (await p.store.head(EVENTS_BUCKET, key))?.etag },
      },
    })),
  );
  const notification = { Records: records };
  const firstPosts = await Promise.all(
    Array.from({ length: 5 }, () => p.api.postEvent(notification)),
  );
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const eventsRun = `events-${EVENTS_BUCKET}-${day}`;
  await p.api.waitFor(eventsRun, (s) => s.completed + s.failed >= N, 90_000);
  const eventItems = await p.api.results(eventsRun);
  // Redelivered once more after the work is done: answered from the stored results.
  const latePosts = await Promise.all(
    Array.from({ length: 5 }, () => p.api.postEvent(notification)),
  );

  // A bulk run, submitted again while it runs and once more after it finished.
  const bulkKeys = await uploadImages(p.store, DATA_BUCKET, 'dup/', N);
  const body = { model: MODEL, source: { bucket: DATA_BUCKET, prefix: 'dup/' } };
  const first = await p.api.submitRun(body);
  const during = await p.api.submitRun(body);
  await p.api.waitFor(first);
  await p.api.waitFor(during);
  const after = await p.api.submitRun(body);
  await p.api.waitFor(after);
  const runs = await Promise.all([first, during, after].map((r) => p.api.results(r)));
  const eventsAgain = await p.api.results(eventsRun);

  const outcomes = [
    countOutcomes(eventItems, eventKeys),
    countOutcomes(eventsAgain, eventKeys),
    ...runs.map((items) => countOutcomes(items, bulkKeys)),
  ];
  const reference = finishedAt(runs[0]);
  const sameResults =
    JSON.stringify(finishedAt(eventsAgain)) === JSON.stringify(finishedAt(eventItems)) &&
    runs.every((items) => JSON.stringify(finishedAt(items)) === JSON.stringify(reference));
  const attempts = [
    ...(await attemptsStarted(Object.keys(finishedAt(eventItems)), QUEUES.realtime)),
    ...(await attemptsStarted(Object.keys(reference), QUEUES.bulk)),
  ];
  const workDone =
    (await counter('camflow_worker_jobs_total', { outcome: 'completed' })) - doneBefore;
  const outputs =
    (await p.outputObjects(`explanations/${EVENTS_BUCKET}/ward/`)).length +
    (await p.outputObjects(`explanations/${DATA_BUCKET}/dup/`)).length;
  const pass =
    outcomes.every((o) => exactlyOnce(o) && o.completed === N) &&
    [...firstPosts, ...latePosts].every((s) => s === 202) &&
    sameResults &&
    attempts.length === 2 * N &&
    attempts.every((a) => a === 1) &&
    workDone === 2 * N &&
    outputs === 2 * N * 3;
  recordFigures('faults', {
    case: 'duplicate events and re-submitted runs',
    injected: `one S3 notification of ${N} objects posted 5x concurrently and 5x after completion; a ${N}-image run submitted 3x (twice while running, once after)`,
    expected:
      'each image explained once (1 attempt, 3 output objects); every run lists each key exactly once with the first finishedAt',
    pass,
    jobs: 2 * N,
    runsChecked: outcomes.length,
    results: outcomes.reduce((a, o) => a + o.results, 0),
    lost: outcomes.reduce((a, o) => a + o.lost.length, 0),
    duplicated: outcomes.reduce((a, o) => a + o.duplicated.length, 0),
    jobsProcessed: workDone,
    maxAttempts: Math.max(...attempts),
    outputObjects: outputs,
    finishedAtUnchanged: sameResults,
  });

  expect([...firstPosts, ...latePosts]).toEqual(Array(10).fill(202));
  for (const o of outcomes) {
    expect(o.lost).toEqual([]);
    expect(o.duplicated).toEqual([]);
    expect(o).toMatchObject({ results: N, completed: N, failed: 0 });
  }
  expect(sameResults).toBe(true);
  expect(attempts).toEqual(Array(2 * N).fill(1));
  expect(workDone).toBe(2 * N);
  expect(outputs).toBe(2 * N * 3);
}, 120_000);

test('poison images fail permanently after one attempt and block nothing', async () => {
  const failures = (retry: string) => counter('camflow_worker_failures_total', { retry });
  const [retriedBefore, permanentBefore] = [await failures('true'), await failures('false')];
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
  const retried = (await failures('true')) - retriedBefore;
  const permanent = (await failures('false')) - permanentBefore;
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
    injected: `3 undecodable images (truncated PNG, PNG declaring 50,000 x 50,000 px, text) listed before ${GOOD} good ones`,
    expected: `each fails permanently with its reason after exactly 1 attempt; the ${GOOD} others complete`,
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
