// Fault: the results API is killed mid-run while it holds completion events it has read but not
// indexed, and started again. To make sure it holds some, it is frozen first (SIGSTOP): Redis
// still hands events to its blocked read, so they sit in the consumer group's pending list,
// then SIGKILL. The new process reclaims them (XAUTOCLAIM); no event is lost, counts end exact.
// The results API runs with a 3 s reclaim idle time (production default 60 s, checked every 30 s).
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
import { ADMIN_TOKEN, Pipeline, until } from '../support/pipeline.js';

const N = 200;
const CLAIM_IDLE_MS = 3000;
let p: Pipeline;

beforeAll(async () => {
  p = await Pipeline.start({
    workers: 2,
    resultsOptions: { indexer: { claimIdleMs: CLAIM_IDLE_MS, claimEveryMs: 1000 } },
  });
}, 120_000);

afterAll(async () => {
  await p?.close();
});

const pending = () => p.pendingEvents();

test('results API killed with events pending: they are reclaimed, counts exact', async () => {
  const run = await startRun(p, 'results-kill/', N);
  const atFault = await waitForProgress(p, run, 0.25);
  const results = p.results!;
  results.child.kill('SIGSTOP');
  await until(
    'events pending for the frozen results API',
    async () => (await pending()) > 0,
    20_000,
  );
  const pendingAtKill = await pending();
  const killedAt = Date.now();
  await results.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  await p.startResults();
  const restartedAt = Date.now();

  const f = await finishRun(p, run);
  const metrics = await fetch(`${p.api.resultsUrl}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  }).then((r) => r.text());
  const reclaimed = metricSum(metrics, 'camflow_events_reclaimed_total');
  await until('nothing left pending', async () => (await pending()) === 0, 10_000).catch(() => {});
  const pendingAtEnd = await pending();
  const pass =
    allCompletedOnce(f, N) && pendingAtKill > 0 && reclaimed >= pendingAtKill && pendingAtEnd === 0;
  recordFigures('faults', {
    case: 'results API SIGKILL',
    injected: `results API frozen (SIGSTOP) after ${atFault.completed} of ${N} images until events were pending, then SIGKILL; started again 2 s later`,
    expected:
      'pending events reclaimed by the new process; every image listed exactly once; counts exact; nothing left pending',
    pass,
    ...outcomeFigures(f.outcomes),
    pendingAtKill,
    reclaimed,
    pendingAtEnd,
    restartToCountsExactSeconds: secondsBetween(restartedAt, f.doneAt),
    killToRestartSeconds: secondsBetween(killedAt, restartedAt),
    runSeconds: f.runSeconds,
    claimIdleMs: CLAIM_IDLE_MS,
    note: 'production reclaim: entries idle 60 s, checked at start and every 30 s',
  });

  expect(pendingAtKill).toBeGreaterThan(0);
  expect(reclaimed).toBeGreaterThanOrEqual(pendingAtKill);
  expect(pendingAtEnd).toBe(0);
  expect(f.outcomes.lost).toEqual([]);
  expect(f.outcomes.duplicated).toEqual([]);
  expect(f.status).toMatchObject({ status: 'completed', total: N, completed: N, failed: 0 });
  expect(f.outputObjects).toBe(3 * N);
}, 180_000);
