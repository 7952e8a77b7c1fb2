// The worker's probes against a real redis-server: liveness (/healthz) stays up through a Redis
// outage (a restart would not bring Redis back, and restarting every worker at once loses their
// warm models), readiness (/readyz) follows Redis, and /healthz and a metric say which ONNX
// Runtime execution provider really runs (here: cuda requested, cpu after the fallback).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@camflow/config';
import { type EmbeddedRedis, freePort, startRedisServer } from '@camflow/storage';
import { createLogger } from '@camflow/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerService } from '../src/index.js';

const status = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );

/** Polls until `check` holds (the probes change when ioredis notices; no fixed sleep). */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker probes', () => {
  let dir: string;
  let port: number;
  let redis: EmbeddedRedis | undefined;
  let worker: WorkerService | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'camflow-probes-'));
    port = await freePort();
    redis = await startRedisServer({ port, dir: join(dir, 'redis') });
  });

  afterAll(async () => {
    await worker?.close();
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('liveness survives a Redis outage, readiness follows it; the provider is reported', async () => {
    const config = loadConfig({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      EXECUTION_PROVIDER: 'cuda',
    });
    worker = await startWorker(config, {
      logger: createLogger('worker', 'silent'),
      metricsPort: 0,
      engineThread: false,
      imageThreads: 0,
      modelDirectory: join(dir, 'models'),
    });
    const base = `http://127.0.0.1:${worker.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      provider: { requested: 'cuda', active: 'cpu' },
    });
    expect(await status(`${base}/readyz`)).toBe(200);
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /^camflow_worker_execution_provider\{requested="cuda",active="cpu"[^}]*\} 1$/m,
    );

    await redis?.close();
    redis = undefined;
    await until(async () => (await status(`${base}/readyz`)) === 503);
    expect(await status(`${base}/healthz`)).toBe(200);

    redis = await startRedisServer({ port, dir: join(dir, 'redis') });
    await until(async () => (await status(`${base}/readyz`)) === 200);
    expect(await status(`${base}/healthz`)).toBe(200);
  });
});
