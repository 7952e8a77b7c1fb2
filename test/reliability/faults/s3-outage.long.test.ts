// Fault: the S3 server is unreachable for 10 s mid-run (s3rver stopped, then started again on the
// same port and folder). Jobs that hit the outage fail transiently and BullMQ retries them with
// exponential backoff (1 s, 2 s, 4 s, ... over 6 attempts): all complete, none fails for good.
// Then an outage longer than that backoff: the jobs it exhausts fail as retryable, and submitting
// the run again completes them.
import { RETRY } from '@camflow/contracts';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  allCompletedOnce,
  finishRun,
  secondsBetween,
  startRun,
  waitForProgress,
} from '../support/fault-run.js';
import { recordFigures } from '../support/figures.js';
import { metricSum } from '../support/metrics.js';
import { outcomeFigures } from '../support/outcomes.js';
import { DATA_BUCKET, MODEL, Pipeline } from '../support/pipeline.js';

const N = 200;
const DOWN_MS = 10_000;
// Backoff before the last attempt: 1 + 2 + 4 + 8 + 16 s. A longer outage fails jobs for good.
const { attempts, backoff } = RETRY.explain;
const RETRY_BUDGET_S = (backoff.delay * (2 ** (attempts - 1) - 1)) / 1000;
let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start({ workers: 2 });
}, 120_000);

afterAll(async () => {
  await p?.close();
});

test('S3 unreachable for 10 s: jobs retry with backoff and all complete', async () => {
  const run = await startRun(p, 's3-outage/', N);
  const atFault = await waitForProgress(p, run, 0.25);
  const stoppedAt = Date.now();
  await p.stopS3();
  await new Promise((r) => setTimeout(r, DOWN_MS));
  await p.startS3();
  const backAt = Date.now();

  const f = await finishRun(p, run, 180_000);
  const metrics = await Promise.all(p.workers.map((_, i) => p.workerMetrics(i)));
  const retried = metrics.reduce(
    (a, m) => a + metricSum(m, 'camflow_worker_failures_total', { retry: 'true' }),
    0,
  );
  const failedForGood = metrics.reduce(
    (a, m) => a + metricSum(m, 'camflow_worker_failures_total', { retry: 'false' }),
    0,
  );
  const maxAttempts = Math.max(...f.items.map((i) => i.attempts));
  const retriedJobs = f.items.filter((i) => i.attempts > 1).length;
  const pass = allCompletedOnce(f, N) && retried > 0 && failedForGood === 0;
  recordFigures('faults', {
    case: 'S3 outage (10 s)',
    injected: `s3rver stopped after ${atFault.completed} of ${N} images, started again on the same port and folder after ${DOWN_MS / 1000} s`,
    expected:
      'failed attempts retried with backoff; every image completes exactly once; none failed for good',
    pass,
    ...outcomeFigures(f.outcomes),
    outageSeconds: secondsBetween(stoppedAt, backAt),
    failedAttempts: retried,
    jobsRetried: retriedJobs,
    maxAttempts,
    failedForGood,
    backToRunEndSeconds: secondsBetween(backAt, f.lastFinishedAt),
    runSeconds: f.runSeconds,
    attemptsAllowed: attempts,
    retryBudgetSeconds: RETRY_BUDGET_S,
    note: `RETRY.explain backs off ${RETRY_BUDGET_S} s in all before the last of ${attempts} attempts: a longer outage fails the jobs it exhausts (next case)`,
  });

  expect(f.outcomes.lost).toEqual([]);
  expect(f.outcomes.duplicated).toEqual([]);
  expect(f.status).toMatchObject({ status: 'completed', total: N, completed: N, failed: 0 });
  expect(f.outputObjects).toBe(3 * N);
  expect(retried).toBeGreaterThan(0);
  expect(failedForGood).toBe(0);
}, 240_000);

test('S3 down longer than the retry budget: failures are retryable and a re-submitted run completes them', async () => {
  const n = 60;
  const downMs = (RETRY_BUDGET_S + 14) * 1000;
  const run = await startRun(p, 's3-long-outage/', n);
  const atFault = await waitForProgress(p, run, 0.2);
  await p.stopS3();
  await new Promise((r) => setTimeout(r, downMs));
  await p.startS3();

  // Outputs are checked after the re-submitted run: the outage cut some uploads in half.
  const first = await finishRun(p, run, 180_000, false);
  const failed = first.items.filter((i) => i.status === 'failed');
  const retryable = failed.filter(
    (i) => (i.error as { retryable?: boolean } | undefined)?.retryable === true,
  ).length;
  const resubmitted = {
    ...run,
    runId: await p.api.submitRun({
      model: MODEL,
      source: { bucket: DATA_BUCKET, prefix: run.prefix },
    }),
  };
  const again = await finishRun(p, resubmitted, 120_000);
  const pass =
    first.outcomes.lost.length === 0 &&
    first.outcomes.duplicated.length === 0 &&
    failed.length > 0 &&
    retryable === failed.length &&
    allCompletedOnce(again, n);
  recordFigures('faults', {
    case: `S3 outage longer than the retry budget (${downMs / 1000} s)`,
    injected: `s3rver stopped after ${atFault.completed} of ${n} images for ${downMs / 1000} s (retry budget ${RETRY_BUDGET_S} s); then the same run submitted again`,
    expected:
      'jobs out of retries fail with a transient reason marked retryable, none lost; the re-submitted run runs them again and completes every image once',
    pass,
    jobs: n,
    failedInOutage: failed.length,
    failedReasons: first.outcomes.failedReasons,
    markedRetryable: retryable,
    lostFirstRun: first.outcomes.lost.length,
    resubmittedCompleted: again.outcomes.completed,
    resubmittedFailed: again.outcomes.failed,
    lost: again.outcomes.lost.length,
    duplicated: again.outcomes.duplicated.length,
    outputObjects: again.outputObjects,
  });

  expect(first.outcomes.lost).toEqual([]);
  expect(first.outcomes.duplicated).toEqual([]);
  expect(failed.length).toBeGreaterThan(0);
  expect(retryable).toBe(failed.length);
  expect(again.status).toMatchObject({ status: 'completed', total: n, completed: n, failed: 0 });
  expect(again.outcomes.lost).toEqual([]);
  expect(again.outcomes.duplicated).toEqual([]);
  expect(again.outputObjects).toBe(3 * n);
}, 300_000);
