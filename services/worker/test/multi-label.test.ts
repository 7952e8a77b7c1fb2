// A 14-label sigmoid model through the real worker (redis-server, s3rver, ONNX Runtime): the
// prediction is the set of labels over their thresholds (the card's per-label thresholds), every
// predicted label gets its own CAM, named, and a job with two targets gets two CAMs, each the map
// a single-target job of that class gives; a 3-class softmax model's top 2 classes per image.
// Expected sets, classes and scores: PyTorch's (camflow_ref/byom.py).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CompletedEvent,
  type FailedEvent,
  modelKeys,
  QUEUES,
  targetOutputKeys,
} from '@camflow/contracts';
import { decodeImage } from '@camflow/imaging';
import { createLogger } from '@camflow/telemetry';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { startWorker, type WorkerService } from '../src/index.js';
import { addJobs, explainJob, readEvents, type TestImage } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'byom/expected.json'), 'utf8'));
const ref = expected['cxr14-tiny'];
const CLASSES: string[] = ref.classes;
const MODEL = 'cxr14-tiny@1';
const DATA = 'data';

describe('bring-your-own models in the worker (real Redis, S3 and ONNX Runtime)', () => {
  let svc: TestServices;
  let redis: Redis;
  let bulk: Queue;
  let worker: WorkerService;
  const images: TestImage[] = [];

  beforeAll(async () => {
    svc = await startTestServices({ env: { BATCH_SIZE: '8', WORKER_CONCURRENCY: '8' } });
    redis = new Redis(svc.config.REDIS_URL, { maxRetriesPerRequest: null });
    bulk = new Queue(QUEUES.bulk, { connection: redis });
    for (const name of ['cxr14-tiny', 'tri-tiny']) {
      const keys = modelKeys({ name, version: '1' });
      const dir = join(FIXTURES, 'models', name);
      const bucket = svc.config.CAMFLOW_MODEL_BUCKET;
      await svc.store.put(bucket, keys.onnx, await readFile(join(dir, 'model.onnx')));
      await svc.store.put(bucket, keys.card, await readFile(join(dir, 'model.json')));
    }
    await svc.store.ensureBucket(DATA);
    for (const key of expected.keys as string[]) {
      const name = `byom/${key}`;
      await svc.store.put(DATA, name, await readFile(join(FIXTURES, 'byom', key)), 'image/png');
      images.push({
        key: name,
        etag: (await svc.store.head(DATA, name))?.etag,
        width: 0,
        height: 0,
      });
    }
    worker = await startWorker(svc.config, {
      logger: createLogger('worker', 'silent'),
      modelDirectory: join(svc.dir, 'models'),
      maxBatchWaitMs: 100,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await bulk?.close();
    await redis?.quit();
    await svc?.close();
  });

  const get = async (key: string) =>
    (await svc.store.get(svc.config.CAMFLOW_OUTPUT_BUCKET, key)).body;

  it('predicts label sets, explains each predicted label and two asked-for targets by name', async () => {
    const sets = ref.labels as string[][];
    const byDefault = images.map((img, i) => ({
      ...explainJob(DATA, img, { model: MODEL }),
      labels: sets[i],
    }));
    for (const j of byDefault) j.data.labels = j.labels;
    // Pneumonia (6) and Effusion (2): the two labels with their own thresholds.
    const two = images
      .slice(0, 2)
      .map((img) => explainJob(DATA, img, { model: MODEL, targets: [6, 2] }));
    // The same classes one at a time: the maps a many-target job must reproduce.
    const singles = [6, 2].map((t) => explainJob(DATA, images[0], { model: MODEL, target: t }));
    const unknown = explainJob(DATA, images[0], { model: MODEL, targets: [14] });
    const all = [...byDefault, ...two, ...singles, unknown];
    await addJobs(bulk, all);
    const { events } = await readEvents(
      redis,
      (evs) => all.every((j) => evs.some((e) => e.jobId === j.id)),
      120_000,
    );
    const byId = new Map(events.map((e) => [e.jobId, e]));
    const done = (id: string) => {
      const e = byId.get(id);
      expect(e?.type, JSON.stringify(e)).toBe('job.completed');
      return e as CompletedEvent;
    };

    for (const [i, job] of byDefault.entries()) {
      const e = done(job.id);
      const p = e.prediction;
      expect(p.kind).toBe('multi-label');
      expect(p.classes).toEqual(CLASSES);
      expect(p.thresholds).toEqual(ref.thresholds);
      // Every label's score, close to PyTorch's on torchvision's preprocessing of the PNG.
      expect(p.scores).toHaveLength(14);
      for (const [k, s] of p.scores.entries()) {
        expect(Math.abs(s - ref.scores[i][k])).toBeLessThan(1e-4);
      }
      const names = (p.labels ?? []).map((k) => CLASSES[k]);
      expect(names, job.data.source.key).toEqual(ref.predicted[i]);
      expect(e.labels).toEqual(sets[i]);
      // One CAM per predicted label, in label order, each with its class and its own score.
      expect(e.cams?.map((c) => c.className)).toEqual(names);
      expect(e.cams?.map((c) => c.target)).toEqual(p.labels);
      for (const c of e.cams ?? []) expect(c.score).toBe(p.scores[c.target]);
      expect(p.target).toBe(p.labels?.[0]);
      // Hernia's sigmoid is saturated (1.0 in float32): its map is empty, and says why.
      const hernia = e.cams?.find((c) => c.className === 'Hernia');
      expect(hernia?.empty?.reason).toBe('saturated');
      expect(e.cams?.filter((c) => c.empty)).toHaveLength(1);
      const keys = new Set(e.cams?.flatMap((c) => [c.overlayKey, c.heatmapKey]));
      expect(keys.size).toBe(2 * names.length);
      // The result's raw CAM is the first predicted label's (not the engine's class 0).
      if (i < 2) {
        const result = JSON.parse(Buffer.from(await get(e.outputs.resultKey)).toString());
        expect(result.targetCams.map((c: { target: number }) => c.target)).toEqual(p.labels);
        expect(result.cam.data).toEqual(result.targetCams[0].data);
        expect(result.cam.data).not.toEqual(result.targetCams[1].data);
      }
    }

    const [six, effusion] = singles.map((j) => done(j.id));
    expect(six.cams).toBeUndefined();
    for (const job of two) {
      const e = done(job.id);
      expect(e.targets).toEqual([6, 2]);
      expect(e.cams?.map((c) => [c.target, c.className])).toEqual([
        [6, 'Pneumonia'],
        [2, 'Effusion'],
      ]);
      expect(e.cams?.map((c) => c.score)).toEqual([e.prediction.scores[6], e.prediction.scores[2]]);
      // The first target keeps the single-target keys; the second has its own.
      expect(e.cams?.[0].overlayKey).toBe(e.outputs.overlayKey);
      const own = targetOutputKeys(DATA, job.data.source.key, job.id, 2, 'jpg');
      expect(e.cams?.[1]).toMatchObject({ heatmapKey: own.heatmapKey });
      const heatmaps = await Promise.all(e.cams?.map((c) => get(c.heatmapKey)) ?? []);
      const decoded = await Promise.all(heatmaps.map((b) => decodeImage(b)));
      expect(decoded.map((d) => d.bitDepth)).toEqual([16, 16]);
      expect(Buffer.compare(Buffer.from(heatmaps[0]), Buffer.from(heatmaps[1]))).not.toBe(0);
      for (const c of e.cams ?? []) expect((await get(c.overlayKey)).length).toBeGreaterThan(0);
    }
    // Image 0's maps from the two-target job equal the single-target jobs' maps.
    const result = JSON.parse(Buffer.from(await get(done(two[0].id).outputs.resultKey)).toString());
    for (const [k, single] of [six, effusion].entries()) {
      const alone = JSON.parse(Buffer.from(await get(single.outputs.resultKey)).toString());
      const many: number[] = result.targetCams[k].data;
      expect(result.targetCams[k].target).toBe(single.prediction.target);
      expect(many).toHaveLength(alone.cam.data.length);
      const scale = Math.max(...alone.cam.data);
      expect(scale).toBeGreaterThan(0);
      for (const [j, v] of many.entries()) {
        expect(Math.abs(v - alone.cam.data[j])).toBeLessThan(1e-4 * scale);
      }
    }

    const failed = byId.get(unknown.id) as FailedEvent;
    expect(failed.type).toBe('job.failed');
    expect(failed.error.reason).toBe('invalid-target');
    expect(failed.error.message).toContain('target 14 is not a class of cxr14-tiny@1');
  });

  it('a 3-class softmax model: the top 2 classes of each image, named, by its own scores', async () => {
    const tri = expected['tri-tiny'];
    const jobs = images.map((img) =>
      explainJob(DATA, img, { model: 'tri-tiny@1', targets: { top: 2 } }),
    );
    await addJobs(bulk, jobs);
    const { events } = await readEvents(
      redis,
      (evs) => jobs.every((j) => evs.some((e) => e.jobId === j.id)),
      120_000,
    );
    for (const [i, job] of jobs.entries()) {
      const e = events.find((x) => x.jobId === job.id) as CompletedEvent;
      expect(e.type).toBe('job.completed');
      expect(e.prediction.kind).toBe('multi-class');
      expect(e.prediction.labels).toBeUndefined();
      expect(tri.classes[e.prediction.predicted]).toBe(tri.predicted[i]);
      const order = [0, 1, 2].sort((a, b) => tri.scores[i][b] - tri.scores[i][a]);
      expect(e.cams?.map((c) => c.className)).toEqual(order.slice(0, 2).map((k) => tri.classes[k]));
      expect(e.cams?.[0].target).toBe(e.prediction.predicted);
      for (const c of e.cams ?? []) expect(c.score).toBe(e.prediction.scores[c.target]);
    }
  });
});
