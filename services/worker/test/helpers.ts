// Test helpers for the worker's integration tests: a pushed model, images in a bucket, explain
// jobs on the queues, and the events stream read back.
import { readFile } from 'node:fs/promises';
import {
  type CompletionEvent,
  completionEventSchema,
  EVENT_FIELD,
  EVENTS_STREAM,
  type ExplainJob,
  explainJobId,
  modelKeys,
  RETRY,
} from '@camflow/contracts';
import {
  encodePixels,
  encodeSamplePngs,
  resizePixels,
  seedCardJson,
  synthesizeSample,
} from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { expect } from 'vitest';

const MODEL = new URL('../../../test/fixtures/goldens/xray/model.onnx', import.meta.url);

/** Pushes the seed model as `xray@<version>` the way `camflow models push` lays it out. */
export async function pushSeedModel(
  store: ObjectStore,
  bucket: string,
  version = '1',
  cardFields: Record<string, unknown> = {},
): Promise<void> {
  const keys = modelKeys({ name: 'xray', version });
  const card = { ...seedCardJson, name: 'xray', version, layer: 'resnet_blocks.4', ...cardFields };
  await store.put(bucket, keys.onnx, await readFile(MODEL), 'application/octet-stream');
  await store.put(bucket, keys.card, JSON.stringify(card), 'application/json');
}

export interface TestImage {
  key: string;
  etag?: string;
  width: number;
  height: number;
}

/**
 * Synthetic chest X-rays in `bucket` under `prefix`: alternately 256x256 grey PNGs and 300x200
 * RGB JPEGs (resized), plus `corrupt.png`, a PNG cut short.
 */
export async function uploadImages(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  count: number,
): Promise<{ good: TestImage[]; corrupt: TestImage }> {
  await store.ensureBucket(bucket);
  const good: TestImage[] = [];
  for (let i = 0; i < count; i++) {
    const sample = synthesizeSample({ count, seed: 11 }, i);
    const wide = i % 2 === 1;
    const bytes = wide
      ? await wideJpeg(sample.image, sample.size)
      : (await encodeSamplePngs(sample)).image;
    const key = `${prefix}/img ${i}${wide ? '.jpg' : '.png'}`;
    await store.put(bucket, key, bytes, wide ? 'image/jpeg' : 'image/png');
    good.push({
      key,
      etag: (await store.head(bucket, key))?.etag,
      width: wide ? 300 : 256,
      height: wide ? 200 : 256,
    });
  }
  const { image } = await encodeSamplePngs(synthesizeSample({ count: 1, seed: 3 }, 0));
  const corruptKey = `${prefix}/corrupt.png`;
  await store.put(bucket, corruptKey, image.subarray(0, 200), 'image/png');
  return { good, corrupt: { key: corruptKey, width: 0, height: 0 } };
}

async function wideJpeg(grey: Uint8Array, size: number): Promise<Uint8Array> {
  const small = resizePixels(
    { width: size, height: size, channels: 1, data: grey },
    300,
    200,
    'bilinear',
  );
  const rgb = new Uint8Array(small.data.length * 3);
  for (let i = 0; i < small.data.length; i++) rgb.fill(small.data[i], i * 3, i * 3 + 3);
  return encodePixels({ width: 300, height: 200, channels: 3, data: rgb }, 'jpeg');
}

/** An explain job's payload and id for one image. */
export function explainJob(
  bucket: string,
  image: Pick<TestImage, 'key' | 'etag'>,
  settings: Partial<ExplainJob['settings']> = {},
  runId = 'run-1',
): { id: string; data: ExplainJob } {
  const data: ExplainJob = {
    runId,
    source: { bucket, key: image.key, ...(image.etag ? { etag: image.etag } : {}) },
    settings: { model: 'xray@1', method: 'gradcam', target: 'predicted', ...settings },
    submittedAt: Date.now(),
  };
  return { id: explainJobId(data.source, data.settings), data };
}

/** Adds jobs the way ingest does (job name, id, retry policy, retention). */
export async function addJobs(queue: Queue, jobs: { id: string; data: ExplainJob }[]) {
  await queue.addBulk(
    jobs.map((j) => ({
      name: 'explain',
      data: j.data,
      opts: {
        jobId: j.id,
        ...RETRY.explain,
        removeOnComplete: { age: 3600, count: 10000 },
        removeOnFail: { age: 24 * 3600 },
      },
    })),
  );
}

/** Reads the events stream from `from` until `done(events)` holds; returns every event read. */
export async function readEvents(
  redis: Redis,
  done: (events: CompletionEvent[]) => boolean,
  timeoutMs = 30_000,
  from = '0',
): Promise<{ events: CompletionEvent[]; lastId: string }> {
  const events: CompletionEvent[] = [];
  let lastId = from;
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out with ${events.length} events: ${JSON.stringify(events.map((e) => [e.type, e.jobId]))}`,
      );
    }
    const reply = (await redis.xread(
      'COUNT',
      100,
      'BLOCK',
      500,
      'STREAMS',
      EVENTS_STREAM,
      lastId,
    )) as [string, [string, string[]][]][] | null;
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        lastId = id;
        expect(fields[0]).toBe(EVENT_FIELD);
        events.push(completionEventSchema.parse(JSON.parse(fields[1])));
      }
    }
  }
  return { events, lastId };
}

/** Every event on the stream after entry `from` ('0' = all), without waiting. */
export async function eventsSince(redis: Redis, from: string): Promise<CompletionEvent[]> {
  const entries = await redis.xrange(EVENTS_STREAM, from === '0' ? '-' : `(${from}`, '+');
  return entries.map(([, fields]) => completionEventSchema.parse(JSON.parse(fields[1])));
}

/** The job once it reached `state` (events are published just before BullMQ records the outcome). */
export async function jobInState(
  queue: Queue,
  id: string,
  state: string,
  timeoutMs = 10_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The state first, then the job: a job read before its final state may miss the last update.
    const now = await queue.getJobState(id);
    const job = now === state ? await queue.getJob(id) : undefined;
    if (job) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${now}, not ${state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
