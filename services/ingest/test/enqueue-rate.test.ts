// Enqueue throughput and Redis memory per queued job for a 100k-key prefix. A measurement, not
// a timed test: run with `CAMFLOW_BENCH=1 npx vitest run services/ingest/test/enqueue-rate.test.ts`
// (CAMFLOW_BENCH_LIST_MS=<ms> delays each listing page like S3 does; CAMFLOW_BENCH_LISTPACK=<bytes>
// sets Redis's hash-max-listpack-value first).
// The listing comes from an in-memory ObjectStore (100k objects in s3rver would measure s3rver);
// Redis, BullMQ and the index writes are real.
import { createHash } from 'node:crypto';
import { type RunRecord, redisKeys } from '@camflow/contracts';
import type { ObjectInfo, ObjectStore } from '@camflow/storage';
import { describe, expect, test } from 'vitest';
import { createQueues, RunExpander } from '../src/index.js';
import { createRun } from '../src/run-store.js';
import { startEnv } from './helpers.js';

const N = Number(process.env.CAMFLOW_BENCH_KEYS ?? 100_000);
/** Simulated latency of one ListObjectsV2 page (S3 answers 1000 keys in roughly 50-150 ms). */
const LIST_MS = Number(process.env.CAMFLOW_BENCH_LIST_MS ?? 0);

/** A bucket of N keys listed 1000 a page, with ETags like S3's. */
class SyntheticListing implements Partial<ObjectStore> {
  async list(_b: string, prefix: string, token?: string, pageSize = 1000) {
    if (LIST_MS > 0) await new Promise((r) => setTimeout(r, LIST_MS));
    const start = Number(token ?? 0);
    const end = Math.min(start + pageSize, N);
    const objects: ObjectInfo[] = [];
    for (let i = start; i < end; i++) {
      const key = `${prefix}patient-${String(i).padStart(6, '0')}/view-frontal.png`;
      objects.push({ key, etag: createHash('md5').update(key).digest('hex'), size: 250_000 });
    }
    return { objects, next: end < N ? String(end) : undefined };
  }
}

async function usedMemory(redis: import('ioredis').Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

describe.skipIf(!process.env.CAMFLOW_BENCH)('enqueue rate (benchmark)', () => {
  test(`${N} keys from a prefix listing`, { timeout: 600_000 }, async () => {
    const env = await startEnv();
    try {
      const store = new SyntheticListing() as unknown as ObjectStore;
      const queues = createQueues(env.redis);
      const expander = new RunExpander({ redis: env.redis, store, queues }, { highWater: N * 2 });
      const record: RunRecord = {
        runId: 'run-bench',
        kind: 'run',
        model: 'xray@1',
        method: 'gradcam',
        target: 'predicted',
        priority: 'bulk',
        source: { bucket: 'data', prefix: 'chest-xray/test/' },
        owner: 'bench',
        createdAt: Date.now(),
        listingDone: false,
      };
      await createRun(env.redis, record);
      // Optional: how much a Redis tuned for small hashes saves (BullMQ job hashes hold JSON
      // values over the default 64-byte listpack limit, so they become full hash tables).
      const listpack = process.env.CAMFLOW_BENCH_LISTPACK;
      if (listpack) await env.redis.config('SET', 'hash-max-listpack-value', listpack);
      await env.redis.call('MEMORY', 'PURGE').catch(() => {});
      const before = await usedMemory(env.redis);
      const t0 = performance.now();
      expect(await expander.expand(record.runId)).toBe('done');
      const seconds = (performance.now() - t0) / 1000;
      const after = await usedMemory(env.redis);
      expect(await queues.bulk.getWaitingCount()).toBe(N);
      expect(await env.redis.scard(redisKeys.runJobs(record.runId))).toBe(N);

      // Where the bytes go: one job's BullMQ hash and its index entries.
      const jobId = (await queues.bulk.getWaiting(0, 0))[0].id!;
      const jobHash = Number(await env.redis.call('MEMORY', 'USAGE', `bull:camflow-bulk:${jobId}`));
      const jobRuns = Number(await env.redis.call('MEMORY', 'USAGE', redisKeys.jobRuns(jobId)));
      const runJobs = Number(
        await env.redis.call('MEMORY', 'USAGE', redisKeys.runJobs(record.runId)),
      );
      const report = {
        keys: N,
        listLatencyMs: LIST_MS,
        hashMaxListpackValue: listpack ?? 'default (64)',
        seconds: Number(seconds.toFixed(2)),
        jobsPerSecond: Math.round(N / seconds),
        bytesPerQueuedJob: Math.round((after - before) / N),
        sample: {
          bullJobHash: jobHash,
          jobRunsSet: jobRuns,
          runJobsSetPerMember: Math.round(runJobs / N),
        },
      };
      console.log(`enqueue benchmark: ${JSON.stringify(report)}`);
      await Promise.all(Object.values(queues).map((q) => q.close()));
    } finally {
      await env.close();
    }
  });
});
