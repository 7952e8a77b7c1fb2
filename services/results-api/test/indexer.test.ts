import { EVENTS_STREAM, RESULTS_GROUP, redisKeys } from '@camflow/contracts';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { ensureGroup, Indexer, type ResultsService, startResults } from '../src/index.js';
import { createMetrics } from '../src/metrics.js';
import {
  addJobs,
  completed,
  failed,
  get,
  publish,
  seedRun,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

const logger = createLogger('results-test', 'silent');
let services: TestServices;
let redis: Redis;
let api: ResultsService;

const counts = async (runId: string) =>
  (await get(api.port, `/v1/runs/${runId}`, TOKENS.owner)).body as {
    status: string;
    total: number;
    completed: number;
    failed: number;
    throughput: number | null;
    etaSeconds: number | null;
  };

/** Resolves once the consumer group has nothing pending and nothing unread. */
const drained = () =>
  waitFor(async () => {
    const groups = (await redis.xinfo('GROUPS', EVENTS_STREAM)) as unknown[][];
    const g = groups.find((x) => x[x.indexOf('name') + 1] === RESULTS_GROUP) ?? [];
    return g[g.indexOf('pending') + 1] === 0 && g[g.indexOf('lag') + 1] === 0;
  });

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, { port: 0, logger, indexer: { blockMs: 200 } });
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

describe('indexer', () => {
  it('counts outcomes and moves a run from queued to running to completed', async () => {
    const runId = 'r-status';
    await seedRun(redis, { runId, listingDone: false });
    await addJobs(redis, runId, ['s1', 's2', 's3']);
    expect(await counts(runId)).toMatchObject({ status: 'queued', total: 3, completed: 0 });

    const t0 = Date.now();
    await publish(redis, completed({ jobId: 's1', runId, finishedAt: t0 - 2000 }));
    await publish(redis, failed({ jobId: 's2', runId, finishedAt: t0 - 1000 }));
    await waitFor(async () => (await counts(runId)).failed === 1);
    const running = await counts(runId);
    expect(running).toMatchObject({ status: 'running', completed: 1, failed: 1, total: 3 });
    expect(running.throughput).toBeGreaterThan(0);
    expect(running.etaSeconds).toBeGreaterThan(0);

    await publish(redis, completed({ jobId: 's3', runId, finishedAt: t0 }));
    await waitFor(async () => (await counts(runId)).completed === 2);
    // Every job has an outcome but the listing is still going: not completed yet.
    expect((await counts(runId)).status).toBe('running');
    await seedRun(redis, { runId, listingDone: true });
    const done = await counts(runId);
    expect(done).toMatchObject({ status: 'completed', completed: 2, failed: 1, etaSeconds: 0 });
    expect(done.throughput).toBeCloseTo(1, 1); // 3 results over 2 s

    await seedRun(redis, { runId: 'r-broken', error: 'manifest not found' });
    expect((await counts('r-broken')).status).toBe('failed');
  });

  it('ignores duplicate events and keeps the newest outcome whatever the delivery order', async () => {
    const runId = 'r-dup';
    await seedRun(redis, { runId });
    await addJobs(redis, runId, ['d1', 'd2']);
    const t = Date.now();
    const ev = completed({ jobId: 'd1', runId, finishedAt: t });
    for (let i = 0; i < 3; i++) await publish(redis, ev);
    // d2 failed, was retried later and completed; the stale failure is redelivered last.
    await publish(redis, failed({ jobId: 'd2', runId, finishedAt: t - 5000 }));
    await publish(redis, completed({ jobId: 'd2', runId, finishedAt: t }));
    await publish(redis, failed({ jobId: 'd2', runId, finishedAt: t - 5000 }));
    await drained();
    expect(await counts(runId)).toMatchObject({ completed: 2, failed: 0, status: 'completed' });
    expect(await redis.zcard(redisKeys.runOrder(runId))).toBe(2);
    const job = await get(api.port, '/v1/jobs/d2', TOKENS.owner);
    expect(job.body.status).toBe('completed');
  });

  it('counts a job shared by two runs in both, also when ingest replays its stored event', async () => {
    await seedRun(redis, { runId: 'r-a' });
    await seedRun(redis, { runId: 'r-b' });
    await addJobs(redis, 'r-a', ['shared', 'only-a']);
    await addJobs(redis, 'r-b', ['shared']);
    await publish(redis, completed({ jobId: 'shared', runId: 'r-a' }));
    await publish(redis, completed({ jobId: 'only-a', runId: 'r-a' }));
    await drained();
    expect(await counts('r-a')).toMatchObject({ completed: 2, total: 2 });
    expect(await counts('r-b')).toMatchObject({ completed: 1, total: 1, status: 'completed' });

    // A third run reuses the result: ingest replays the stored event under the new run id.
    await seedRun(redis, { runId: 'r-c' });
    await addJobs(redis, 'r-c', ['shared']);
    const stored = JSON.parse((await redis.get(redisKeys.result('shared'))) as string);
    await publish(redis, { ...stored, runId: 'r-c' });
    await drained();
    expect(await counts('r-c')).toMatchObject({ completed: 1, status: 'completed' });
    // Reused work finished before the run existed: it is no throughput of this run.
    expect((await counts('r-c')).throughput).toBeNull();
    expect(await counts('r-a')).toMatchObject({ completed: 2 });
  });

  it('acknowledges and counts malformed entries without stopping', async () => {
    await seedRun(redis, { runId: 'r-bad' });
    await addJobs(redis, 'r-bad', ['ok1']);
    await publish(redis, 'not json {');
    await publish(redis, JSON.stringify({ type: 'job.completed', jobId: 'x' }));
    await redis.xadd(EVENTS_STREAM, '*', 'other', 'field');
    await publish(redis, completed({ jobId: 'ok1', runId: 'r-bad' }));
    await drained();
    expect(await counts('r-bad')).toMatchObject({ completed: 1 });
    const metrics = await get(api.port, '/metrics', TOKENS.owner);
    expect(metrics.text).toMatch(/camflow_events_malformed_total\{[^}]*\} 3/);
  });

  it('reclaims entries a killed consumer left pending; two indexers count exactly once', async () => {
    const runId = 'r-reclaim';
    await seedRun(redis, { runId });
    const jobs = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await addJobs(redis, runId, jobs);
    // Stop the running indexer and let a "dead" consumer read half the events without acking.
    await api.close();
    const t = Date.now();
    for (const [i, j] of jobs.slice(0, 20).entries())
      await publish(redis, completed({ jobId: j, runId, finishedAt: t + i }));
    await ensureGroup(redis);
    const read = (await redis.xreadgroup(
      'GROUP',
      RESULTS_GROUP,
      'dead-consumer',
      'COUNT',
      20,
      'STREAMS',
      EVENTS_STREAM,
      '>',
    )) as [string, unknown[]][];
    expect(read[0][1]).toHaveLength(20);
    for (const [i, j] of jobs.slice(20).entries())
      await publish(redis, completed({ jobId: j, runId, finishedAt: t + 20 + i }));

    const opts = {
      port: 0,
      logger,
      indexer: { blockMs: 100, claimIdleMs: 300, claimEveryMs: 100 },
    };
    api = await startResults(services.config, opts);
    const other = await startResults(services.config, opts);
    try {
      await drained();
      expect(await counts(runId)).toMatchObject({ completed: 40, failed: 0, status: 'completed' });
      expect(await redis.scard(redisKeys.runDone(runId))).toBe(40);
      const a = await get(api.port, '/metrics', TOKENS.owner);
      const b = await get(other.port, '/metrics', TOKENS.owner);
      expect(a.text + b.text).toMatch(/camflow_events_reclaimed_total\{[^}]*\} [1-9]/);
    } finally {
      await other.close();
    }
  });

  it('indexes events whose indexing failed as soon as Redis answers, not after the idle reclaim', async () => {
    const runId = 'r-retry-own';
    await seedRun(redis, { runId });
    await addJobs(redis, runId, ['f1', 'f2']);
    await api.close();
    // Index writes go through `flaky`, which is cut off while the blocking read still delivers.
    const flaky = new Redis(services.redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const blocking = new Redis(services.redis.url);
    await waitFor(() => flaky.status === 'ready');
    const indexer = new Indexer(flaky, blocking, logger, createMetrics(flaky, []), {
      consumer: 'retry-own',
      blockMs: 100,
      claimIdleMs: 60_000,
      claimEveryMs: 60_000,
    });
    try {
      await indexer.start();
      flaky.disconnect();
      await publish(redis, completed({ jobId: 'f1', runId }));
      await publish(redis, failed({ jobId: 'f2', runId }));
      const pendingOwn = async () =>
        (
          (await redis.xpending(
            EVENTS_STREAM,
            RESULTS_GROUP,
            '-',
            '+',
            10,
            'retry-own',
          )) as unknown[]
        ).length;
      await waitFor(async () => (await pendingOwn()) >= 1);
      expect(await redis.scard(redisKeys.runDone(runId))).toBe(0);
      await flaky.connect();
      // Well within the 60 s the idle reclaim would wait.
      await waitFor(
        async () =>
          (await redis.scard(redisKeys.runDone(runId))) === 1 &&
          (await redis.scard(redisKeys.runFailed(runId))) === 1,
        5000,
      );
      await waitFor(async () => (await pendingOwn()) === 0);
    } finally {
      await indexer.close();
      flaky.disconnect();
      blocking.disconnect();
      api = await startResults(services.config, { port: 0, logger, indexer: { blockMs: 200 } });
    }
  });

  it('close() is idempotent and stops a blocked read at once', async () => {
    const svc = await startResults(services.config, {
      port: 0,
      logger,
      indexer: { blockMs: 10_000 },
    });
    const t = Date.now();
    await Promise.all([svc.close(), svc.close()]);
    await svc.close();
    expect(Date.now() - t).toBeLessThan(3000);
  });
});
