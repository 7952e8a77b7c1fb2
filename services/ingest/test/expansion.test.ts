import {
  type CompletionEvent,
  EVENT_FIELD,
  EVENTS_STREAM,
  type ExplainJob,
  explainJobId,
  modelKeys,
  QUEUES,
  redisKeys,
} from '@camflow/contracts';
import { seedCardJson } from '@camflow/imaging';
import { createLogger } from '@camflow/telemetry';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getRun, type IngestService } from '../src/index.js';
import {
  client,
  type Env,
  putObjects,
  SpyStore,
  startEnv,
  startService,
  TOKENS,
  waitFor,
} from './helpers.js';

const N = 2500;

/**
 * A silent logger that tells when a run's info or warn line matches: the expander's own events
 * (a pause, a refused write) for tests to wait on instead of sleeping.
 */
function watchedLogger() {
  const logger = createLogger('ingest', 'silent');
  const seen: { runId?: string; msg: string }[] = [];
  const waiters: { runId: string; match: RegExp; resolve: () => void }[] = [];
  const hit = (w: { runId: string; match: RegExp }, line: { runId?: string; msg: string }) =>
    line.runId === w.runId && w.match.test(line.msg);
  for (const level of ['info', 'warn'] as const) {
    const write = logger[level].bind(logger);
    logger[level] = ((obj: unknown, msg?: string, ...rest: unknown[]) => {
      const line =
        typeof obj === 'string'
          ? { msg: obj }
          : { runId: (obj as { runId?: string })?.runId, msg: msg ?? '' };
      seen.push(line);
      for (const w of waiters) if (hit(w, line)) w.resolve();
      return write(obj as object, msg, ...rest);
    }) as typeof logger.info;
  }
  return {
    logger,
    /** Resolves once a line for `runId` matches (at once if one already has). */
    logged(runId: string, match: RegExp): Promise<void> {
      if (seen.some((line) => hit({ runId, match }, line))) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ runId, match, resolve }));
    },
  };
}
const CLASSES = Array.from({ length: 12 }, (_, i) => `class${i}`);
let env: Env;
let keys: string[];

beforeAll(async () => {
  env = await startEnv();
  // Each test gives its jobs their own target (below): xray@1's card names 12 classes here, so
  // that each is a class of the model (its model is never run in these tests).
  const card = { ...seedCardJson, name: 'xray', version: '1' };
  await env.ts.store.put(
    env.ts.config.CAMFLOW_MODEL_BUCKET,
    modelKeys({ name: 'xray', version: '1' }).card,
    JSON.stringify({ ...card, output: { activation: 'softmax', classes: CLASSES } }),
    'application/json',
  );
  keys = await putObjects(env.ts.store, 'data', 'big/', N);
  await env.ts.store.put('data', 'big/folder/', new Uint8Array(0), 'application/x-directory');
}, 120_000);
afterAll(async () => {
  await env?.close();
});

/** Each test uses its own target so its job ids are its own (the bulk queue is shared). */
function submit(svc: IngestService, body: Record<string, unknown>) {
  return client(svc.port).post('/v1/runs', { model: 'xray@1', ...body }, TOKENS.writer);
}

async function waitListed(runId: string, ms = 30_000) {
  return waitFor(
    async () => {
      const run = await getRun(env.redis, runId);
      return run?.record.listingDone ? run : undefined;
    },
    ms,
    `run ${runId} listed`,
  );
}

async function waitingJobs(): Promise<Map<string, ExplainJob>> {
  const jobs = await env.queues.bulk.getJobs(['waiting'], 0, -1);
  return new Map(jobs.map((j) => [j.id!, j.data]));
}

describe('prefix runs', () => {
  test('2,500 objects over several pages: exactly that many unique jobs; re-submitting adds none', async () => {
    const spy = new SpyStore(env.ts.store);
    const svc = await startService(env, { store: spy });
    try {
      const before = await env.queues.bulk.getWaitingCount();
      const r = await submit(svc, { source: { bucket: 'data', prefix: 'big/' }, target: 1 });
      expect(r.status).toBe(202);
      const run = await waitListed(r.body.runId);
      expect(run.listed).toBe(N);
      expect(run.cursor).toBe('<end>');
      expect(run.record.error).toBeUndefined();
      expect(spy.listTokens.length).toBe(3); // 1000 + 1000 + 501 (the folder marker skipped)
      expect(await env.redis.scard(redisKeys.runJobs(r.body.runId))).toBe(N);
      expect((await env.queues.bulk.getWaitingCount()) - before).toBe(N);

      const jobs = await waitingJobs();
      const mine = [...jobs.values()].filter((d) => d.runId === r.body.runId);
      expect(new Set(mine.map((d) => d.source.key))).toEqual(new Set(keys));
      const first = mine.find((d) => d.source.key === keys[0])!;
      expect(first).toMatchObject({
        source: { bucket: 'data', key: keys[0], etag: expect.stringMatching(/^[0-9a-f]{32}$/) },
        settings: { model: 'xray@1', method: 'gradcam', target: 1 },
      });
      const job = await env.queues.bulk.getJob(explainJobId(first.source, first.settings));
      expect(job?.opts).toMatchObject({
        attempts: 6,
        removeOnComplete: { age: 3600, count: 10_000 },
      });

      // The same run again: a new run id, the same job ids, nothing new queued.
      const again = await submit(svc, { source: { bucket: 'data', prefix: 'big/' }, target: 1 });
      await waitListed(again.body.runId);
      expect(await env.redis.scard(redisKeys.runJobs(again.body.runId))).toBe(N);
      expect((await env.queues.bulk.getWaitingCount()) - before).toBe(N);
      const id = explainJobId(first.source, first.settings);
      expect((await env.redis.smembers(redisKeys.jobRuns(id))).sort()).toEqual(
        [r.body.runId, again.body.runId].sort(),
      );
    } finally {
      await svc.close();
    }
  });

  test('resumable: stopping the expander mid-run and starting another finishes without duplicates', async () => {
    const spyA = new SpyStore(env.ts.store);
    spyA.listDelayMs = 40;
    const a = await startService(env, { store: spyA, expansion: { pageSize: 100 } });
    const before = await env.queues.bulk.getWaitingCount();
    const r = await submit(a, { source: { bucket: 'data', prefix: 'big/' }, target: 2 });
    const runId = r.body.runId;
    await waitFor(async () => ((await getRun(env.redis, runId))?.listed ?? 0) >= 500);
    await a.close();
    const stopped = (await getRun(env.redis, runId))!;
    expect(stopped.record.listingDone).toBe(false);
    expect(stopped.listed).toBeLessThan(N);
    expect(stopped.listed % 100).toBe(0);
    // Handed back to the queue, not failed: no attempt was spent.
    const expand = await env.queues.runs.getJob(runId);
    expect(await expand?.getState()).toBe('waiting');
    expect(expand?.attemptsMade).toBe(0);

    const spyB = new SpyStore(env.ts.store);
    const b = await startService(env, { store: spyB, expansion: { pageSize: 100 } });
    try {
      const done = await waitListed(runId);
      expect(spyB.listTokens[0]).toBe(stopped.cursor); // resumed, not restarted
      expect(spyA.listTokens.length + spyB.listTokens.length).toBeLessThanOrEqual(27);
      expect(done.listed).toBe(N);
      expect(await env.redis.scard(redisKeys.runJobs(runId))).toBe(N);
      expect((await env.queues.bulk.getWaitingCount()) - before).toBe(N);
    } finally {
      await b.close();
    }
  });

  test('crash: a frozen expander loses its lock, another resumes; the zombie cannot write progress', async () => {
    const fast = { pageSize: 100, lockDuration: 1000, stalledInterval: 300 };
    const spyA = new SpyStore(env.ts.store);
    spyA.hangListCall = 6;
    const zombie = watchedLogger();
    const a = await startService(env, { store: spyA, expansion: fast, logger: zombie.logger });
    const before = await env.queues.bulk.getWaitingCount();
    const r = await submit(a, { source: { bucket: 'data', prefix: 'big/' }, target: 8 });
    const runId = r.body.runId;
    await waitFor(async () => spyA.hanging);
    // Like a killed process: no more lock renewals, the listing call never returns.
    await a.expansion!.worker.close(true);
    // The page listed before the frozen call may still be finishing (listing overlaps
    // enqueueing): the five pages before the hung sixth call are saved, then nothing moves.
    const frozen = await waitFor(
      async () => {
        const run = await getRun(env.redis, runId);
        return run?.listed === 500 && run;
      },
      10_000,
      'the five pages before the frozen call',
    );

    // BullMQ spaces stalled checks across all workers of a queue with this key; the earlier
    // workers of this file set it for their default 30 s.
    await env.redis.del('bull:camflow-runs:stalled-check');
    const spyB = new SpyStore(env.ts.store);
    const b = await startService(env, { store: spyB, expansion: fast });
    try {
      const done = await waitListed(runId);
      expect(spyB.listTokens[0]).toBe(frozen.cursor);
      expect(done.listed).toBe(N);
      // The zombie wakes up: its page is harmless, its progress is refused (it says so once
      // its write was turned down; the test times out if the write went through).
      const refused = zombie.logged(runId, /being expanded by another ingest/);
      spyA.release();
      await refused;
      const after = (await getRun(env.redis, runId))!;
      expect(after.listed).toBe(N);
      expect(after.cursor).toBe('<end>');
      expect(await env.redis.scard(redisKeys.runJobs(runId))).toBe(N);
      expect((await env.queues.bulk.getWaitingCount()) - before).toBe(N);
    } finally {
      await b.close();
      await a.close();
    }
  });

  test('a transient S3 error is retried from the saved cursor', async () => {
    const spy = new SpyStore(env.ts.store);
    spy.failListCalls.add(3);
    const svc = await startService(env, { store: spy });
    try {
      const before = await env.queues.bulk.getWaitingCount();
      const r = await submit(svc, { source: { bucket: 'data', prefix: 'big/' }, target: 3 });
      const run = await waitListed(r.body.runId);
      // Call 3 failed; the retry (BullMQ backoff) asked for the same page again.
      expect(spy.listTokens).toHaveLength(4);
      expect(spy.listTokens[3]).toBe(spy.listTokens[2]);
      expect(spy.listTokens[2]).toBeDefined();
      expect(run.listed).toBe(N);
      expect((await env.queues.bulk.getWaitingCount()) - before).toBe(N);
      // One failed attempt, then the one that finished.
      expect((await env.queues.runs.getJob(r.body.runId))?.attemptsMade).toBe(2);
    } finally {
      await svc.close();
    }
  });

  test('backpressure: listing pauses above the high-water mark and resumes as the queue drains', async () => {
    await env.queues.bulk.drain();
    const watched = watchedLogger();
    const svc = await startService(env, {
      expansion: { pageSize: 100, highWater: 300, lowWater: 100, pollMs: 20 },
      logger: watched.logger,
    });
    let consumer: Worker | undefined;
    const connection = env.redis.duplicate();
    try {
      const r = await submit(svc, { source: { bucket: 'data', prefix: 'big/' }, target: 4 });
      const runId = r.body.runId;
      // The expander says when it stops listing for room; nothing is listed while paused.
      await watched.logged(runId, /listing paused/);
      // At most two pages past the mark: the room check of the prefetched page is one behind.
      const paused = (await getRun(env.redis, runId))!;
      expect(paused.record.listingDone).toBe(false);
      expect(paused.listed).toBeLessThanOrEqual(500);
      expect(await env.queues.bulk.getWaitingCount()).toBeLessThanOrEqual(500);

      let peak = 0;
      consumer = new Worker(
        QUEUES.bulk,
        async () => {
          peak = Math.max(peak, await env.queues.bulk.getWaitingCount());
        },
        { connection, concurrency: 50 },
      );
      const done = await waitListed(runId, 60_000);
      expect(done.listed).toBe(N);
      expect(await env.redis.scard(redisKeys.runJobs(runId))).toBe(N);
      expect(peak).toBeLessThanOrEqual(500);
    } finally {
      await consumer?.close();
      connection.disconnect();
      await svc.close();
    }
  });
});

describe('keys, manifests, empty and missing sources, result reuse', () => {
  let svc: IngestService;
  beforeAll(async () => {
    await env.queues.bulk.drain();
    svc = await startService(env, { expansion: { pageSize: 100 } });
  });
  afterAll(async () => {
    await svc?.close();
  });

  test('CSV manifest with a header, quotes and labels; bad lines counted', async () => {
    const csv = [
      'key,label',
      `"${keys[0]}",1`,
      `${keys[1]},0`,
      `s3://data/${keys[2]},pneumonia`,
      '"a, comma.png",',
      '',
      '"unterminated,1',
      `s3://other/${keys[3]},1`,
    ].join('\r\n');
    await env.ts.store.put('data', 'manifests/m.csv', csv, 'text/csv');
    const r = await submit(svc, {
      source: { bucket: 'data', manifest: 'manifests/m.csv' },
      target: 5,
    });
    const run = await waitListed(r.body.runId);
    expect(run.listed).toBe(4);
    expect(await env.redis.hget(redisKeys.run(r.body.runId), 'invalid')).toBe('2');
    const jobs = [...(await waitingJobs()).values()].filter((d) => d.runId === r.body.runId);
    const byKey = Object.fromEntries(jobs.map((d) => [d.source.key, d]));
    expect(Object.keys(byKey).sort()).toEqual([keys[0], keys[1], keys[2], 'a, comma.png'].sort());
    expect(byKey[keys[0]].label).toBe(1);
    expect(byKey[keys[1]].label).toBe(0);
    expect(byKey[keys[2]].label).toBe('pneumonia');
    expect(byKey['a, comma.png'].label).toBeUndefined();
    // Existing objects are pinned by ETag like a listing; a missing one is queued unpinned.
    expect(byKey[keys[0]].source.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(byKey['a, comma.png'].source.etag).toBeUndefined();
  });

  test('JSONL manifest with labels, over several pages', async () => {
    const lines = keys.slice(0, 250).map((key, i) => JSON.stringify({ key, label: i % 2 }));
    lines.splice(10, 0, 'not json', '{"label": 1}');
    await env.ts.store.put(
      'data',
      'manifests/m.jsonl',
      lines.join('\n') + '\n',
      'application/x-ndjson',
    );
    const r = await submit(svc, {
      source: { bucket: 'data', manifest: 'manifests/m.jsonl' },
      target: 6,
    });
    const run = await waitListed(r.body.runId);
    expect(run.listed).toBe(250);
    expect(await env.redis.scard(redisKeys.runJobs(r.body.runId))).toBe(250);
    const jobs = [...(await waitingJobs()).values()].filter((d) => d.runId === r.body.runId);
    expect(jobs).toHaveLength(250);
    expect(jobs.find((d) => d.source.key === keys[7])?.label).toBe(1);
    expect(jobs.find((d) => d.source.key === keys[8])?.label).toBe(0);
  });

  test('a manifest of label sets (a `labels` column) gives each job its set', async () => {
    const csv = ['key,labels', `${keys[0]},Mass|Edema`, `${keys[1]},`, keys[2]].join('\n');
    await env.ts.store.put('data', 'manifests/sets.csv', csv, 'text/csv');
    const r = await submit(svc, {
      source: { bucket: 'data', manifest: 'manifests/sets.csv' },
      target: 10,
    });
    expect((await waitListed(r.body.runId)).listed).toBe(3);
    const jobs = [...(await waitingJobs()).values()].filter((d) => d.runId === r.body.runId);
    const byKey = Object.fromEntries(jobs.map((d) => [d.source.key, d]));
    expect(byKey[keys[0]].labels).toEqual(['Mass', 'Edema']);
    expect(byKey[keys[1]].labels).toEqual([]);
    expect(byKey[keys[2]].labels).toBeUndefined();
    expect(byKey[keys[0]].label).toBeUndefined();
  });

  test('a missing manifest fails the run with total 0; an empty prefix completes with 0', async () => {
    const missing = await submit(svc, {
      source: { bucket: 'data', manifest: 'manifests/none.csv' },
    });
    const run = await waitListed(missing.body.runId);
    expect(run.record.error).toMatch(/manifest s3:\/\/data\/manifests\/none.csv: not-found/);
    expect(await env.redis.scard(redisKeys.runJobs(missing.body.runId))).toBe(0);

    const empty = await submit(svc, { source: { bucket: 'data', prefix: 'nothing-here/' } });
    const e = await waitListed(empty.body.runId);
    expect(e.record.error).toBeUndefined();
    expect(e.listed).toBe(0);
  });

  test('result reuse: a key already explained with the same inputs is re-published, not queued', async () => {
    const settings = { model: 'xray@1', method: 'gradcam' as const, target: 7 as const };
    const head = await env.ts.store.head('data', keys[0]);
    const source = { bucket: 'data', key: keys[0], etag: head!.etag };
    const doneId = explainJobId(source, settings);
    const previous: CompletionEvent = {
      type: 'job.completed',
      jobId: doneId,
      runId: 'run-earlier',
      source,
      model: 'xray@1',
      method: 'gradcam',
      target: 7,
      submittedAt: 1,
      finishedAt: 2,
      attempts: 1,
      prediction: { target: 0, scores: [0.9], predicted: 0 },
      outputs: { overlayKey: 'o.png', heatmapKey: 'h.png', resultKey: 'r.json' },
      stats: { peak: { x: 0.5, y: 0.5 }, entropy: 1, borderEnergy: 0.1 },
      bucket: 'camflow-outputs',
      image: { width: 8, height: 8 },
      // The earlier run's ground truth: not this run's (it has none).
      label: 'class1',
      labels: ['class1', 'class2'],
    };
    await env.redis.set(redisKeys.result(doneId), JSON.stringify(previous));
    const streamBefore = await env.redis.xlen(EVENTS_STREAM);

    const r = await submit(svc, {
      source: { bucket: 'data', keys: [keys[0], keys[1], keys[2]] },
      target: 7,
    });
    const runId = r.body.runId;
    await waitListed(runId);
    expect(await env.redis.scard(redisKeys.runJobs(runId))).toBe(3);
    expect(await env.redis.sismember(redisKeys.jobRuns(doneId), runId)).toBe(1);
    expect(await env.queues.bulk.getJob(doneId)).toBeUndefined();
    const others = [keys[1], keys[2]].map(async (key) => {
      const h = await env.ts.store.head('data', key);
      return env.queues.bulk.getJob(explainJobId({ bucket: 'data', key, etag: h!.etag }, settings));
    });
    for (const j of await Promise.all(others)) expect(j?.data.runId).toBe(runId);

    expect(await env.redis.xlen(EVENTS_STREAM)).toBe(streamBefore + 1);
    const [[, fields]] = await env.redis.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1);
    const republished = JSON.parse(fields[fields.indexOf(EVENT_FIELD) + 1]);
    expect(republished).toMatchObject({ type: 'job.completed', jobId: doneId, runId });
    expect(republished.label).toBeUndefined();
    expect(republished.labels).toBeUndefined();
  });

  test('a job that ran out of retries in an outage is run again; a permanent failure is reused', async () => {
    const settings = { model: 'xray@1', method: 'gradcam' as const, target: 9 as const };
    const pinned = async (key: string) => {
      const head = await env.ts.store.head('data', key);
      return { bucket: 'data', key, etag: head!.etag };
    };
    const outage = await pinned(keys[3]);
    const corrupt = await pinned(keys[4]);
    const outageId = explainJobId(outage, settings);
    const corruptId = explainJobId(corrupt, settings);
    // The outage job as the worker leaves it: failed and kept by BullMQ, its job.failed stored.
    await env.queues.realtime.add(
      'explain',
      { runId: 'run-earlier', source: outage, settings, submittedAt: 1 },
      { jobId: outageId },
    );
    const connection = env.redis.duplicate();
    const worker = new Worker(
      QUEUES.realtime,
      async () => {
        throw new UnrecoverableError('ECONNREFUSED');
      },
      { connection },
    );
    try {
      await waitFor(
        async () => (await env.queues.realtime.getJob(outageId))?.isFailed(),
        10_000,
        'outage job failed',
      );
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const failedEvent = (source: typeof outage, jobId: string, retryable: boolean) => ({
      type: 'job.failed',
      jobId,
      runId: 'run-earlier',
      source,
      model: 'xray@1',
      method: 'gradcam',
      target: 9,
      submittedAt: 1,
      finishedAt: 2,
      attempts: retryable ? 6 : 1,
      error: retryable
        ? { reason: 'ECONNREFUSED', message: 'connect ECONNREFUSED', retryable: true }
        : { reason: 'corrupt', message: 'PNG data is corrupt' },
    });
    await env.redis.set(
      redisKeys.result(outageId),
      JSON.stringify(failedEvent(outage, outageId, true)),
    );
    await env.redis.set(
      redisKeys.result(corruptId),
      JSON.stringify(failedEvent(corrupt, corruptId, false)),
    );
    const streamBefore = await env.redis.xlen(EVENTS_STREAM);

    const r = await submit(svc, {
      source: { bucket: 'data', keys: [keys[3], keys[4]] },
      target: 9,
      priority: 'realtime',
    });
    await waitListed(r.body.runId);
    const job = await env.queues.realtime.getJob(outageId);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    expect(await env.queues.realtime.getJob(corruptId)).toBeUndefined();
    expect(await env.redis.xlen(EVENTS_STREAM)).toBe(streamBefore + 1);
    const [[, fields]] = await env.redis.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1);
    const republished = JSON.parse(fields[fields.indexOf(EVENT_FIELD) + 1]);
    expect(republished).toMatchObject({
      type: 'job.failed',
      jobId: corruptId,
      runId: r.body.runId,
    });
  });
});
