// Fault: SIGTERM to a worker mid-run (a rolling update, a scale-down). The worker stops taking
// jobs, finishes the ones it holds and exits 0 well within its grace period (60 s in
// docker-compose and Kubernetes); nothing is left for the stalled-job check, nothing is lost.
import { redisKeys } from '@camflow/contracts';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  allCompletedOnce,
  finishRun,
  secondsBetween,
  startRun,
  waitForActiveJobs,
  waitForProgress,
} from '../support/fault-run.js';
import { recordFigures } from '../support/figures.js';
import { outcomeFigures } from '../support/outcomes.js';
import { Pipeline } from '../support/pipeline.js';

const N = 240;
const GRACE_SECONDS = 60;
let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start({ workers: 2 });
}, 120_000);

afterAll(async () => {
  await p?.close();
});

test('a worker told to stop finishes its jobs and exits within the grace period', async () => {
  const run = await startRun(p, 'sigterm/', N);
  await waitForProgress(p, run, 0.2);
  const victim = p.workers[1];
  const activeAtSignal = await waitForActiveJobs(p, 1);
  const signalledAt = Date.now();
  const exit = await victim.service.stop('SIGTERM');
  const exitSeconds = secondsBetween(signalledAt, exit.at);

  const f = await finishRun(p, run);
  const stalled = (await Promise.all(f.items.map((i) => p.stalledCount(i.jobId)))).filter(
    (n) => n > 0,
  ).length;
  // Jobs the stopping worker still finished (events name the worker as host:pid).
  const stored = await Promise.all(
    f.items.map(async (i) =>
      JSON.parse((await p.inspect().get(redisKeys.result(i.jobId))) ?? '{}'),
    ),
  );
  const finishedWhileStopping = stored.filter(
    (e: { worker?: string; finishedAt?: number }) =>
      e.worker?.endsWith(`:${victim.service.pid}`) && (e.finishedAt ?? 0) >= signalledAt,
  ).length;
  const pass =
    allCompletedOnce(f, N) &&
    exit.code === 0 &&
    exitSeconds < GRACE_SECONDS &&
    stalled === 0 &&
    finishedWhileStopping > 0;
  recordFigures('faults', {
    case: 'worker SIGTERM',
    injected: `SIGTERM to 1 of 2 workers holding ${activeAtSignal} active jobs (plain \`camflow serve worker\`)`,
    expected: `in-flight jobs finish; exit code 0 within the ${GRACE_SECONDS} s grace period; no stalled job; every image completes once`,
    pass,
    ...outcomeFigures(f.outcomes),
    exitCode: exit.code,
    exitSeconds,
    graceSeconds: GRACE_SECONDS,
    finishedWhileStopping,
    stalledJobs: stalled,
    runSeconds: f.runSeconds,
  });

  expect(exit).toMatchObject({ code: 0, signal: null });
  expect(exitSeconds).toBeLessThan(GRACE_SECONDS);
  expect(finishedWhileStopping).toBeGreaterThan(0);
  expect(stalled).toBe(0);
  expect(f.outcomes.lost).toEqual([]);
  expect(f.outcomes.duplicated).toEqual([]);
  expect(f.status).toMatchObject({ status: 'completed', total: N, completed: N, failed: 0 });
  expect(f.outputObjects).toBe(3 * N);
}, 180_000);
