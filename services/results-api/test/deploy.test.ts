// Deployment wiring of the results API: the internal ops listener (probes and Prometheus
// without a token), readiness that covers Redis and S3 and leaks nothing, presigned URLs for a
// public S3 origin (S3_PUBLIC_ENDPOINT), and the bind address.
import { loadConfig } from '@camflow/config';
import { EVENTS_STREAM, RESULTS_GROUP } from '@camflow/contracts';
import { freePort, S3Store } from '@camflow/storage';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import {
  addJobs,
  completed,
  get,
  OUTPUT_BUCKET,
  png,
  publish,
  seedRun,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

const quiet = createLogger('results-test', 'silent');
let services: TestServices;
let redis: Redis;
const running: ResultsService[] = [];

const start = async (env: Record<string, string>, opts: Parameters<typeof startResults>[1]) => {
  const s = await startResults(loadConfig({ ...services.env, ...env }), {
    port: 0,
    logger: quiet,
    ...opts,
  });
  running.push(s);
  return s;
};

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
});

afterAll(async () => {
  for (const s of running) await s.close();
  redis?.disconnect();
  await services?.close();
});

describe('ops listener (METRICS_PORT)', () => {
  it('serves /metrics, /healthz and /readyz without a token; the API port still wants one', async () => {
    const api = await start({ METRICS_PORT: '0' }, { indexer: false });
    expect(api.metricsPort).toBeGreaterThan(0);
    const ops = `http://127.0.0.1:${api.metricsPort}`;
    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(
      /^process_cpu_user_seconds_total\{service="results-api"\}/m,
    );
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    const ready = await fetch(`${ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true });
    expect((await get(api.port, '/metrics')).status).toBe(401);
    expect((await get(api.port, '/readyz')).status).toBe(401);
  });

  it('listens on HOST only: 127.0.0.1 unless told', async () => {
    const api = await start({ METRICS_PORT: '0' }, { indexer: false });
    const other = await fetch(`http://[::1]:${api.metricsPort}/healthz`).then(
      (r) => r.status,
      (err: Error) => (err.cause as { code?: string })?.code,
    );
    expect(other).toBe('ECONNREFUSED');
    const v6 = await start({ HOST: '::1', METRICS_PORT: '0' }, { indexer: false });
    expect((await fetch(`http://[::1]:${v6.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://[::1]:${v6.metricsPort}/healthz`)).status).toBe(200);
  });
});

describe('readiness', () => {
  it('is 503 when S3 does not answer, naming the dependency but not its address', async () => {
    const deadPort = await freePort();
    const deadS3 = S3Store.fromConfig(
      loadConfig({ ...services.env, S3_ENDPOINT: `http://127.0.0.1:${deadPort}` }),
    );
    const api = await start({ METRICS_PORT: '0' }, { indexer: false, store: deadS3 });
    for (const url of [
      `http://127.0.0.1:${api.metricsPort}/readyz`,
      `http://127.0.0.1:${api.port}/readyz`,
    ]) {
      const r = await fetch(url, { headers: { authorization: `Bearer ${TOKENS.owner}` } });
      expect(r.status).toBe(503);
      const text = await r.text();
      expect(JSON.parse(text).checks).toEqual({ redis: 'ok', s3: 'down' });
      expect(text).not.toContain(String(deadPort));
    }
    deadS3.close();
  });
});

describe('S3_PUBLIC_ENDPOINT', () => {
  it('presigns overlay URLs for the public origin, and they load there', async () => {
    // The same s3rver under another name: what a browser reaches vs what the pods use.
    const internal = new URL(services.config.S3_ENDPOINT ?? '');
    const publicEndpoint = `http://localhost:${internal.port}`;
    const api = await start({ S3_PUBLIC_ENDPOINT: publicEndpoint }, { indexer: { blockMs: 200 } });
    await seedRun(redis, { runId: 'public-urls' });
    await addJobs(redis, 'public-urls', ['p1']);
    const event = completed({ jobId: 'p1', runId: 'public-urls' });
    await services.store.put(OUTPUT_BUCKET, event.outputs.overlayKey, png(4, 4), 'image/png');
    await publish(redis, event);
    await waitFor(async () => {
      const groups = (await redis.xinfo('GROUPS', EVENTS_STREAM)) as unknown[][];
      const g = groups.find((x) => x[x.indexOf('name') + 1] === RESULTS_GROUP) ?? [];
      return g[g.indexOf('pending') + 1] === 0 && g[g.indexOf('lag') + 1] === 0;
    });
    const res = await get(api.port, '/v1/runs/public-urls/results', TOKENS.owner);
    expect(res.status).toBe(200);
    const url: string = res.body.items[0].overlayUrl;
    expect(url.startsWith(`${publicEndpoint}/${OUTPUT_BUCKET}/`)).toBe(true);
    // Signed for the public host (SigV4 signs `host`), and it loads there.
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const img = await fetch(url);
    expect(img.status).toBe(200);
    expect(
      Buffer.from(await img.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });
});
