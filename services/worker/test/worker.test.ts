// The worker against a real redis-server and a real S3 server (s3rver): jobs in, overlays,
// heatmaps and result JSON out, completion events on the stream.
import { join } from 'node:path';
import {
  type CompletedEvent,
  type CompletionEvent,
  EVENTS_STREAM,
  type FailedEvent,
  QUEUES,
} from '@camflow/contracts';
import { decodeImage } from '@camflow/imaging';
import { createLogger } from '@camflow/telemetry';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { startWorker, type WorkerService } from '../src/index.js';
import {
  addJobs,
  eventsSince,
  explainJob,
  jobInState,
  pushSeedModel,
  readEvents,
  type TestImage,
  uploadImages,
} from './helpers.js';

const DATA = 'data';
const quiet = createLogger('worker', 'silent');

describe('worker (real Redis and S3)', () => {
  let svc: TestServices;
  let redis: Redis;
  let bulk: Queue;
  let realtime: Queue;
  let good: TestImage[];
  let corrupt: TestImage;
  const workers: WorkerService[] = [];

  const start = async (opts: Parameters<typeof startWorker>[1] = {}) => {
    const w = await startWorker(svc.config, {
      logger: quiet,
      modelDirectory: join(svc.dir, 'models'),
      ...opts,
    });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    svc = await startTestServices({ env: { BATCH_SIZE: '8', WORKER_CONCURRENCY: '8' } });
    redis = new Redis(svc.config.REDIS_URL, { maxRetriesPerRequest: null });
    bulk = new Queue(QUEUES.bulk, { connection: redis });
    realtime = new Queue(QUEUES.realtime, { connection: redis });
    await pushSeedModel(svc.store, svc.config.CAMFLOW_MODEL_BUCKET);
    ({ good, corrupt } = await uploadImages(svc.store, DATA, 'chest/test', 8));
  });

  afterAll(async () => {
    for (const w of workers) await w.close();
    await bulk?.close();
    await realtime?.close();
    await redis?.quit();
    await svc?.close();
  });

  it('explains a batch of images, fails the corrupt one at once, and does not redo work', async () => {
    const jobs = good.map((img) => explainJob(DATA, img));
    const bad = explainJob(DATA, corrupt);
    const unknownModel = explainJob(DATA, good[0], { model: 'nosuch@1' });
    const unknownLayer = explainJob(DATA, good[0], { layer: 'no.such.layer' });
    // All queued before the worker starts: 8 bulk jobs arrive together and must share batches.
    await addJobs(bulk, [...jobs, bad]);
    await addJobs(realtime, [unknownModel, unknownLayer]);
    const all = [...jobs, bad, unknownModel, unknownLayer];

    const t0 = performance.now();
    // A generous wait so the batching check holds on a loaded machine, where images come out of
    // the image thread tens of milliseconds apart.
    const worker = await start({ metricsPort: 0, maxBatchWaitMs: 250 });
    const { events } = await readEvents(redis, (evs) =>
      all.every((j) => evs.some((e) => e.jobId === j.id)),
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(events).toHaveLength(all.length);
    const byId = new Map(events.map((e) => [e.jobId, e]));

    for (const [i, job] of jobs.entries()) {
      const e = byId.get(job.id) as CompletedEvent;
      expect(e.type).toBe('job.completed');
      expect(e).toMatchObject({
        runId: 'run-1',
        model: 'xray@1',
        layer: 'resnet_blocks.4',
        attempts: 1,
      });
      expect(e.image).toEqual({ width: good[i].width, height: good[i].height });
      expect(e.prediction.scores).toHaveLength(1);
      const score = e.prediction.scores[0];
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
      expect(e.prediction.predicted).toBe(score >= 0.5 ? 1 : 0);
      expect(e.prediction.target).toBe(0);
      expect(e.prediction.classes).toEqual(['pneumonia']);
      expect(e.stats.borderEnergy).toBeGreaterThanOrEqual(0);
      expect(e.stats.borderEnergy).toBeLessThanOrEqual(1);
      expect(Object.keys(e.timings ?? {})).toEqual(
        expect.arrayContaining([
          'fetch',
          'decode',
          'preprocess',
          'queue',
          'explain',
          'render',
          'upload',
        ]),
      );
      const out = svc.config.CAMFLOW_OUTPUT_BUCKET;
      expect(e.bucket).toBe(out);
      // The defaults (outputs.ts): a JPEG overlay at source resolution (up to 2048 px), the
      // 16-bit heatmap at most 256 px on its longer side.
      expect(e.outputs.overlayKey).toMatch(
        /^explanations\/data\/chest\/test\/img%20\d\.(png|jpg)\/x[0-9a-f]+\/overlay\.jpg$/,
      );
      const overlayObject = await svc.store.get(out, e.outputs.overlayKey);
      expect(overlayObject.contentType).toBe('image/jpeg');
      const overlay = await decodeImage(overlayObject.body);
      expect([overlay.width, overlay.height, overlay.format]).toEqual([
        good[i].width,
        good[i].height,
        'jpeg',
      ]);
      const heatmap = await decodeImage((await svc.store.get(out, e.outputs.heatmapKey)).body);
      const wide = good[i].width > 256;
      expect([heatmap.width, heatmap.height, heatmap.bitDepth]).toEqual([
        256,
        wide ? Math.round((256 * good[i].height) / good[i].width) : 256,
        16,
      ]);
      const result = JSON.parse(
        Buffer.from((await svc.store.get(out, e.outputs.resultKey)).body).toString('utf8'),
      );
      expect(result).toMatchObject({
        type: 'job.completed',
        jobId: job.id,
        prediction: e.prediction,
      });
      expect(result.cam).toMatchObject({
        layer: 'resnet_blocks.4',
        width: 8,
        height: 8,
        align: 'resize',
      });
      // The raw CAM and the geometry: the heatmap at any resolution can be recomputed.
      expect(result.cam.data).toHaveLength(64);
      expect(Math.min(...result.cam.data)).toBeGreaterThanOrEqual(0);
      expect(result.geometry.original).toEqual({ width: good[i].width, height: good[i].height });
      expect(result.overlay).toEqual({
        format: 'jpeg',
        width: good[i].width,
        height: good[i].height,
      });
      expect(result.heatmap).toMatchObject({ bitDepth: 16, width: heatmap.width });
    }

    const failed = (id: string) => byId.get(id) as FailedEvent;
    expect(failed(bad.id)).toMatchObject({ type: 'job.failed', attempts: 1 });
    expect(['corrupt', 'truncated']).toContain(failed(bad.id).error.reason);
    expect(failed(unknownModel.id).error.reason).toBe('unknown-model');
    expect(failed(bad.id).error.retryable).toBeUndefined(); // permanent: reused, never rerun
    expect(failed(unknownLayer.id).error).toMatchObject({ reason: 'unknown-layer' });
    expect(failed(unknownLayer.id).error.message).toContain('no.such.layer');
    for (const [queue, id] of [
      [bulk, bad.id],
      [realtime, unknownModel.id],
      [realtime, unknownLayer.id],
    ] as const) {
      const j = await jobInState(queue, id, 'failed');
      expect(j.attemptsMade).toBe(1); // permanent: no retries
    }

    // Micro-batching: the 8 images shared engine calls.
    const batch = await worker.metrics.batchSize.get();
    const sum = batch.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const count = batch.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    expect(sum).toBe(jobs.length + 1); // + the unknown layer's failed call
    expect(count).toBeLessThan(jobs.length);
    const text = await fetch(`http://127.0.0.1:${worker.port}/metrics`).then((r) => r.text());
    expect(text).toMatch(
      /camflow_worker_images_processed_total\{[^}]*queue="camflow-bulk"[^}]*\} 8/,
    );
    expect(text).toMatch(/camflow_worker_failures_total\{[^}]*reason="unknown-model"/);
    expect((await fetch(`http://127.0.0.1:${worker.port}/healthz`)).status).toBe(200);
    console.log(
      `worker: ${jobs.length} images in ${seconds.toFixed(2)} s (incl. model load) = ` +
        `${(jobs.length / seconds).toFixed(1)} images/s; ${count} engine calls, ` +
        `batch sizes ${JSON.stringify(batch.values.filter((v) => v.labels.le !== undefined).map((v) => [v.labels.le, v.value]))}`,
    );

    // Adding the same jobs again is a no-op: no new work, no new events. BullMQ decides at add
    // time, so each job is still its finished original once addBulk returns (a job queued again
    // would be waiting, active, or finished anew) and there is nothing to wait for.
    const finished = async () =>
      Promise.all(
        jobs.map(async (j) => {
          const job = await bulk.getJob(j.id);
          return [j.id, await job?.getState(), job?.finishedOn];
        }),
      );
    const before = await redis.xlen(EVENTS_STREAM);
    const originals = await finished();
    await addJobs(bulk, jobs);
    expect(await finished()).toEqual(originals);
    expect(originals.every(([, state]) => state === 'completed' || state === 'failed')).toBe(true);
    expect(await bulk.getJobCounts('wait', 'active')).toEqual({ wait: 0, active: 0 });
    expect(await redis.xlen(EVENTS_STREAM)).toBe(before);

    await worker.close();
    await worker.close(); // safe twice
  });

  it("draws the CAM on the layer's receptive fields when the card says align: receptive-field", async () => {
    await pushSeedModel(svc.store, svc.config.CAMFLOW_MODEL_BUCKET, '2', {
      align: 'receptive-field',
    });
    // target 0 (the only class) gives new job ids: the first test already ran 'predicted'.
    const plain = explainJob(DATA, good[0], { model: 'xray@1', target: 0 }, 'run-align');
    const aligned = explainJob(DATA, good[0], { model: 'xray@2', target: 0 }, 'run-align');
    await addJobs(realtime, [plain, aligned]);
    const worker = await start();
    const { events } = await readEvents(redis, (evs) =>
      [plain, aligned].every((j) => evs.some((e) => e.jobId === j.id)),
    );
    const out = svc.config.CAMFLOW_OUTPUT_BUCKET;
    const read = async (id: string) => {
      const e = events.find((x) => x.jobId === id) as CompletedEvent;
      expect(e.type).toBe('job.completed');
      const result = JSON.parse(
        Buffer.from((await svc.store.get(out, e.outputs.resultKey)).body).toString('utf8'),
      );
      const heat = await decodeImage((await svc.store.get(out, e.outputs.heatmapKey)).body);
      return { e, result, heat };
    };
    const a = await read(plain.id);
    const b = await read(aligned.id);
    expect(a.result.cam.align).toBe('resize');
    expect(b.result.cam.align).toBe('receptive-field');
    // A job's own align overrides the card, both ways.
    const byJob = explainJob(
      DATA,
      good[0],
      { model: 'xray@1', target: 0, align: 'receptive-field' },
      'run-align',
    );
    const backToResize = explainJob(
      DATA,
      good[0],
      { model: 'xray@2', target: 0, align: 'resize' },
      'run-align',
    );
    await addJobs(realtime, [byJob, backToResize]);
    const more = await readEvents(redis, (evs) =>
      [byJob, backToResize].every((j) => evs.some((e) => e.jobId === j.id)),
    );
    events.push(...more.events);
    const c = await read(byJob.id);
    const d = await read(backToResize.id);
    expect(c.result.cam.align).toBe('receptive-field');
    expect(d.result.cam.align).toBe('resize');
    expect(Buffer.from(c.heat.data).equals(Buffer.from(b.heat.data))).toBe(true);
    expect(Buffer.from(d.heat.data).equals(Buffer.from(a.heat.data))).toBe(true);
    // Same model and image: the same scores, the map drawn 15.5 tensor pixels up and left.
    expect(b.e.prediction.scores).toEqual(a.e.prediction.scores);
    expect(Buffer.from(b.heat.data).equals(Buffer.from(a.heat.data))).toBe(false);
    expect(b.e.stats.peak?.x ?? 1).toBeLessThanOrEqual(a.e.stats.peak?.x ?? 0);
    await worker.close();
  });

  it("writes the outputs the card's render settings ask for", async () => {
    await pushSeedModel(svc.store, svc.config.CAMFLOW_MODEL_BUCKET, '3', {
      render: { overlay: { format: 'png', maxSide: 120 }, heatmap: { maxSide: 'source' } },
    });
    const wide = good.find((g) => g.width === 300) as TestImage;
    const job = explainJob(DATA, wide, { model: 'xray@3' }, 'run-render');
    await addJobs(realtime, [job]);
    const worker = await start();
    const { events } = await readEvents(redis, (evs) => evs.some((e) => e.jobId === job.id));
    const e = events.find((x) => x.jobId === job.id) as CompletedEvent;
    expect(e.type).toBe('job.completed');
    expect(e.outputs.overlayKey).toMatch(/\/overlay\.png$/);
    const out = svc.config.CAMFLOW_OUTPUT_BUCKET;
    const overlay = await decodeImage((await svc.store.get(out, e.outputs.overlayKey)).body);
    expect([overlay.format, overlay.width, overlay.height]).toEqual(['png', 120, 80]);
    const heatmap = await decodeImage((await svc.store.get(out, e.outputs.heatmapKey)).body);
    expect([heatmap.width, heatmap.height, heatmap.bitDepth]).toEqual([300, 200, 16]);
    // Statistics stay at the image's own resolution whatever the drawings' sizes.
    expect(e.image).toEqual({ width: 300, height: 200 });
    await worker.close();
  });

  it('close() during work lets in-flight jobs finish, and nothing is lost', async () => {
    const from = (await redis.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    // New ids (another method) for the same images, and a realtime one among them.
    const jobs = good.map((img) => explainJob(DATA, img, { method: 'gradcam++' }, 'run-2'));
    await addJobs(bulk, jobs.slice(1));
    await addJobs(realtime, jobs.slice(0, 1));
    const worker = await start({ maxBatchWaitMs: 50 });
    const deadline = Date.now() + 20_000;
    while ((await bulk.getActiveCount()) + (await realtime.getActiveCount()) === 0) {
      if (Date.now() > deadline) throw new Error('no job became active');
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([worker.close(), worker.close()]);

    // After close: every job either finished, with its event already published, or is still
    // waiting for the next worker; none is stuck active, none failed.
    expect(await bulk.getJobCounts('active', 'failed')).toEqual({ active: 0, failed: 1 }); // 1: the corrupt image of the first test
    expect(await realtime.getActiveCount()).toBe(0);
    const published = new Set((await eventsSince(redis, from)).map((e) => e.jobId));
    let finished = 0;
    for (const j of jobs) {
      const state = await (await (j === jobs[0] ? realtime : bulk).getJob(j.id))?.getState();
      if (state === 'completed') {
        finished++;
        expect(published.has(j.id)).toBe(true);
      } else {
        expect(state).toBe('waiting');
        expect(published.has(j.id)).toBe(false);
      }
    }
    expect(finished).toBeGreaterThan(0);
    console.log(
      `close(): ${finished} in-flight jobs finished, ${jobs.length - finished} left waiting`,
    );

    // A new worker takes the rest; in the end every job has exactly one completed event.
    const next = await start();
    const { events } = await readEvents(
      redis,
      (evs) => jobs.every((j) => evs.some((e) => e.jobId === j.id)),
      30_000,
      from,
    );
    const completed = events.filter((e): e is CompletedEvent => e.type === 'job.completed');
    expect(completed.map((e) => e.jobId).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(
      events.every((e: CompletionEvent) => e.runId === 'run-2' && e.method === 'gradcam++'),
    ).toBe(true);
    await next.close();
  });

  it('retries transient faults with backoff and publishes job.failed after the last attempt', async () => {
    // An S3 endpoint nobody listens on: every fetch is ECONNREFUSED, a transient fault.
    const config = { ...svc.config, S3_ENDPOINT: 'http://127.0.0.1:9' };
    const worker = await startWorker(config, {
      logger: quiet,
      modelDirectory: join(svc.dir, 'models-unreachable'),
    });
    workers.push(worker);
    const from = (await redis.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const job = explainJob(DATA, good[0], { method: 'layercam' }, 'run-3');
    await realtime.add('explain', job.data, {
      jobId: job.id,
      attempts: 3,
      backoff: { type: 'exponential', delay: 50 },
    });
    const { events } = await readEvents(
      redis,
      (evs) => evs.some((e) => e.jobId === job.id),
      30_000,
      from,
    );
    const e = events.find((x) => x.jobId === job.id) as FailedEvent;
    expect(e).toMatchObject({ type: 'job.failed', attempts: 3, runId: 'run-3' });
    expect(e.error).toMatchObject({ reason: 'ECONNREFUSED', retryable: true });
    const j = await jobInState(realtime, job.id, 'failed');
    expect(j.attemptsMade).toBe(3);
    expect(events.filter((x) => x.jobId === job.id)).toHaveLength(1); // no event for retried attempts
    const failures = await worker.metrics.failures.get();
    expect(failures.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { reason: 'ECONNREFUSED', retry: 'true' }, value: 2 }),
        expect.objectContaining({ labels: { reason: 'ECONNREFUSED', retry: 'false' }, value: 1 }),
      ]),
    );
    await worker.close();
  });

  it('a payload that does not parse (a 1100-byte key) fails at once and still ends with job.failed', async () => {
    const worker = await start();
    const from = (await redis.xrevrange(EVENTS_STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    const key = `chest/${'k'.repeat(1100)}.png`;
    const job = explainJob(DATA, { key }, {}, 'run-unreadable');
    await addJobs(realtime, [{ id: 'x-unreadable-payload', data: job.data }]);
    const { events } = await readEvents(
      redis,
      (evs) => evs.some((e) => e.jobId === 'x-unreadable-payload'),
      30_000,
      from,
    );
    const e = events.find((x) => x.jobId === 'x-unreadable-payload') as FailedEvent;
    expect(e).toMatchObject({
      type: 'job.failed',
      runId: 'run-unreadable',
      attempts: 1,
      model: 'xray@1',
      source: { bucket: DATA, key },
    });
    expect(e.error.reason).toBe('invalid-payload');
    expect(e.error.message).toMatch(/source\.key: key ".*": keys are at most 1024 bytes/);
    expect(e.error.retryable).toBeUndefined();
    const j = await jobInState(realtime, 'x-unreadable-payload', 'failed');
    expect(j.attemptsMade).toBe(1);
    await worker.close();
  });
});
