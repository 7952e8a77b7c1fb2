// The pipeline benchmark's measurements: engine alone (in-process), run enqueueing, a run end to
// end, and a realtime job's latency behind a bulk backlog. Each returns plain figures.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EVENT_FIELD, EVENTS_STREAM, QUEUES, redisKeys } from '@camflow/contracts';
import { Engine } from '@camflow/engine';
import { preprocess } from '@camflow/imaging';
import { getRun } from '@camflow/ingest';
import { Queue } from 'bullmq';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** Polls `check` every `everyMs` until it returns a value other than undefined. */
export async function until(what, check, { everyMs = 100, timeoutMs = 120_000 } = {}) {
  const started = now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** A small JSON client for the services (bearer token). */
export function apiClient(token) {
  return async (method, url, body) => {
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
}

/**
 * Engine.explain alone on batches of `batchSize` of the same preprocessed images, in this process
 * (no S3, no queue, no rendering): one warm-up batch (compiles the Grad-CAM graph), then batches
 * until `seconds` have passed (at least 4).
 */
export async function engineOnly({ onnx, card, jpegs, batchSize, seconds, layer }) {
  const pre = [];
  for (const j of jpegs) pre.push(await preprocess(j.bytes, card));
  const size = pre[0].shape.reduce((a, b) => a * b, 1);
  const batch = (k) => {
    const data = new Float32Array(batchSize * size);
    for (let b = 0; b < batchSize; b++)
      data.set(pre[(k * batchSize + b) % pre.length].tensor, b * size);
    return { data, dims: [batchSize, ...pre[0].shape] };
  };
  const opts = {
    layer,
    method: 'gradcam',
    score: 'output',
    target: Array(batchSize).fill('predicted'),
  };
  const engine = Engine.load(onnx, { executionProvider: 'cpu', maxBatch: batchSize });
  try {
    let t = now();
    await engine.explain(batch(0), opts);
    const warmupMs = now() - t;
    const times = [];
    const cpu0 = process.cpuUsage();
    const started = now();
    for (let k = 1; times.length < 4 || now() - started < seconds * 1000; k++) {
      const input = batch(k);
      t = now();
      await engine.explain(input, opts);
      times.push(now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const total = times.reduce((a, b) => a + b, 0);
    return {
      /** CPU ms (all threads of this process) per image. */
      cpuMsPerImage: (cpu.user + cpu.system) / 1000 / (times.length * batchSize),
      batches: times.length,
      images: times.length * batchSize,
      warmupMs,
      batchMs: total / times.length,
      imagesPerSec: (times.length * batchSize * 1000) / total,
    };
  } finally {
    await engine.close();
  }
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system, all threads) of each process in `pids` (name -> pid), in ms. */
export function cpuTimes(pids) {
  const out = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    } catch {
      out[name] = Number.NaN;
    }
  }
  return out;
}

/** Per-process CPU ms between two `cpuTimes` snapshots, per image. */
function cpuPerImage(before, after, images) {
  const per = {};
  for (const k of Object.keys(before)) per[k] = (after[k] - before[k]) / images;
  per.all = Object.values(per).reduce((a, b) => a + b, 0);
  return per;
}

/** Redis `used_memory` in bytes. */
export async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
}

/** Removes a run's index entries (run hash, sets, per-job membership and results). */
export async function cleanRun(redis, runId) {
  let cursor = '0';
  do {
    const [next, ids] = await redis.sscan(redisKeys.runJobs(runId), cursor, 'COUNT', 2000);
    cursor = next;
    if (ids.length > 0) {
      await redis.unlink(...ids.map((id) => redisKeys.jobRuns(id)), ...ids.map(redisKeys.result));
    }
  } while (cursor !== '0');
  await redis.unlink(
    redisKeys.run(runId),
    redisKeys.runJobs(runId),
    redisKeys.runDone(runId),
    redisKeys.runFailed(runId),
    redisKeys.runOrder(runId),
  );
  await redis.zrem(redisKeys.runs, runId);
}

/** Empties the bulk queue (BullMQ obliterate, force: active jobs too); returns seconds. */
export async function obliterateBulk(redis) {
  const queue = new Queue(QUEUES.bulk, { connection: redis.duplicate() });
  try {
    const t = now();
    await queue.obliterate({ force: true });
    return (now() - t) / 1000;
  } finally {
    await queue.close();
    await queue.disconnect();
  }
}

/** Waiting jobs in the bulk queue. */
export async function bulkWaiting(redis) {
  return redis.llen(`bull:${QUEUES.bulk}:wait`);
}

/**
 * Creates a run and times it until every key is queued (`listingDone`, polled on the run hash
 * every 50 ms), with Redis memory before and after.
 */
export async function enqueueRun(ctx, source) {
  const { redis, api, ingestUrl, model } = ctx;
  await redis.call('MEMORY', 'PURGE').catch(() => {});
  const before = await usedMemory(redis);
  const t = now();
  const { runId } = await api('POST', `${ingestUrl}/v1/runs`, { model, source });
  const run = await until(
    `run ${runId} listed`,
    async () => {
      const r = await getRun(redis, runId);
      if (r?.record.error) throw new Error(`run ${runId} failed: ${r.record.error}`);
      return r?.record.listingDone ? r : undefined;
    },
    { everyMs: 50, timeoutMs: 600_000 },
  );
  const seconds = (now() - t) / 1000;
  const after = await usedMemory(redis);
  const jobs = await redis.scard(redisKeys.runJobs(runId));
  // The ingest's own rate of its enqueue step alone (index writes + addBulk, smoothed over the
  // last pages), to tell it apart from listing.
  const ingestMetrics = await scrape(`${ingestUrl}/metrics`, ctx.token);
  return {
    enqueueStepJobsPerSec: ingestMetrics('camflow_ingest_enqueue_jobs_per_second'),
    runId,
    listed: run.listed,
    jobs,
    seconds,
    jobsPerSec: jobs / seconds,
    waiting: await bulkWaiting(redis),
    bytesPerJob: (after - before) / jobs,
    usedMemoryBefore: before,
    usedMemoryAfter: after,
  };
}

/** Lists `prefix` through the S3 API alone (1000 a page, as ingest does): keys per second. */
export async function listingRate(store, bucket, prefix) {
  const t = now();
  let keys = 0;
  let next;
  do {
    const page = await store.list(bucket, prefix, next, 1000);
    keys += page.objects.length;
    next = page.next;
  } while (next);
  const seconds = (now() - t) / 1000;
  return { keys, seconds, keysPerSec: keys / seconds };
}

/** Every event of `runId` on the events stream. */
export async function runEvents(redis, runId) {
  const out = [];
  let start = '-';
  for (;;) {
    const entries = await redis.xrange(EVENTS_STREAM, start, '+', 'COUNT', 1000);
    for (const [, fields] of entries) {
      const i = fields.indexOf(EVENT_FIELD);
      const e = JSON.parse(fields[i + 1]);
      if (e.runId === runId) out.push(e);
    }
    if (entries.length < 1000) return out;
    start = `(${entries.at(-1)[0]}`;
  }
}

/** Mean of each `timings` stage over completed events (ms). */
export function meanTimings(events) {
  const sums = {};
  let n = 0;
  for (const e of events) {
    if (e.type !== 'job.completed' || !e.timings) continue;
    n++;
    for (const [k, v] of Object.entries(e.timings)) sums[k] = (sums[k] ?? 0) + v;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
}

/** Prometheus text -> lookup of `name{labels}` sums (labels matched by substring). */
export async function scrape(url, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  return (name, label = '') =>
    lines
      .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label))
      .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
}

/** Mean engine batch (ms) and batch size between two worker metric scrapes. */
export function batchStats(m0, m1) {
  const count =
    m1('camflow_worker_stage_seconds_count', 'stage="batch"') -
    m0('camflow_worker_stage_seconds_count', 'stage="batch"');
  const sum =
    m1('camflow_worker_stage_seconds_sum', 'stage="batch"') -
    m0('camflow_worker_stage_seconds_sum', 'stage="batch"');
  const images = m1('camflow_worker_batch_size_sum') - m0('camflow_worker_batch_size_sum');
  return {
    batches: count,
    batchMs: count > 0 ? (sum * 1000) / count : null,
    meanBatchSize: count > 0 ? images / count : null,
  };
}

/**
 * One run through the whole pipeline: POST /v1/runs, then GET /v1/runs/:id every 100 ms until
 * completed. Throughput from the events (first to last finishedAt, the results API's formula)
 * and from the wall clock (POST to status completed).
 */
export async function endToEnd(ctx, prefix, count) {
  const { redis, api, ingestUrl, resultsUrl, model, workerMetrics } = ctx;
  const m0 = await scrape(workerMetrics);
  const cpu0 = cpuTimes(ctx.pids);
  const t = now();
  const { runId } = await api('POST', `${ingestUrl}/v1/runs`, {
    model,
    source: { bucket: ctx.bucket, prefix },
  });
  const view = await until(
    `run ${runId} completed`,
    async () => {
      const v = await api('GET', `${resultsUrl}/v1/runs/${runId}`);
      return v.status === 'completed' || v.status === 'failed' ? v : undefined;
    },
    { everyMs: 100, timeoutMs: 600_000 },
  );
  const wallSeconds = (now() - t) / 1000;
  const cpu1 = cpuTimes(ctx.pids);
  const m1 = await scrape(workerMetrics);
  const events = await runEvents(redis, runId);
  const finished = events.map((e) => e.finishedAt).sort((a, b) => a - b);
  const spanSeconds = (finished.at(-1) - finished[0]) / 1000;
  if (view.completed !== count) {
    throw new Error(`run ${runId}: ${view.completed} of ${count} completed, ${view.failed} failed`);
  }
  return {
    runId,
    images: view.completed,
    failed: view.failed,
    wallSeconds,
    wallImagesPerSec: count / wallSeconds,
    spanSeconds,
    eventImagesPerSec: (finished.length - 1) / spanSeconds,
    apiThroughput: view.throughput,
    timings: meanTimings(events),
    cpuMsPerImage: cpuPerImage(cpu0, cpu1, count),
    ...batchStats(m0, m1),
  };
}

/**
 * Queues a bulk run over `prefix` (real images), waits until the worker is busy with it, then
 * submits `count` realtime jobs one after another (POST /v1/jobs, random 0.2-1 s apart so they
 * land at different points of a batch) and times each until its result is indexed.
 */
export async function realtimeLatency(ctx, prefix, keys) {
  const { redis, api, ingestUrl, resultsUrl, model, workerMetrics, batchSize } = ctx;
  const bulk = await enqueueRun(ctx, { bucket: ctx.bucket, prefix });
  // Busy: a few batches done for the bulk run (the worker is in its steady state).
  await until(
    'the worker busy with the bulk run',
    async () => {
      const v = await api('GET', `${resultsUrl}/v1/runs/${bulk.runId}`);
      return v.completed >= 2 * batchSize ? v : undefined;
    },
    { everyMs: 200, timeoutMs: 300_000 },
  );
  const m0 = await scrape(workerMetrics);
  const jobs = [];
  for (const key of keys) {
    await sleep(200 + Math.random() * 800);
    const t = now();
    const { jobId } = await api('POST', `${ingestUrl}/v1/jobs`, {
      model,
      source: { bucket: ctx.bucket, key },
    });
    const stored = await until(
      `realtime job ${jobId} indexed`,
      () => redis.get(redisKeys.result(jobId)).then((v) => v ?? undefined),
      { everyMs: 10, timeoutMs: 120_000 },
    );
    const latencyMs = now() - t;
    const event = JSON.parse(stored);
    jobs.push({ jobId, latencyMs, type: event.type, timings: event.timings ?? {} });
  }
  const m1 = await scrape(workerMetrics);
  const view = await api('GET', `${resultsUrl}/v1/runs/${bulk.runId}`);
  return {
    bulk,
    bulkDone: view.completed,
    bulkTimings: meanTimings(await runEvents(redis, bulk.runId)),
    bulkWaitingAfter: await bulkWaiting(redis),
    jobs,
    ...batchStats(m0, m1),
  };
}
