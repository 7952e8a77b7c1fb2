import { EVENTS_STREAM, RESULTS_GROUP, tokenId } from '@camflow/contracts';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import {
  addJobs,
  completed,
  failed,
  get,
  OUTPUT_BUCKET,
  png,
  publish,
  seedRun,
  storeAudit,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

let services: TestServices;
let redis: Redis;
let api: ResultsService;

const drained = () =>
  waitFor(async () => {
    const groups = (await redis.xinfo('GROUPS', EVENTS_STREAM)) as unknown[][];
    const g = groups.find((x) => x[x.indexOf('name') + 1] === RESULTS_GROUP) ?? [];
    return g[g.indexOf('pending') + 1] === 0 && g[g.indexOf('lag') + 1] === 0;
  });

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, {
    port: 0,
    logger: createLogger('results-test', 'silent'),
    indexer: { blockMs: 200 },
  });

  // A big run: 250 results, five per millisecond (equal scores must still page exactly).
  await seedRun(redis, { runId: 'big' });
  const t = Date.now() - 10_000;
  const jobs = Array.from({ length: 250 }, (_, i) => `b${String(i).padStart(3, '0')}`);
  await addJobs(redis, 'big', jobs);
  for (const [i, j] of jobs.entries()) {
    const ev =
      i % 25 === 24
        ? failed({ jobId: j, runId: 'big', finishedAt: t + Math.floor(i / 5) })
        : completed({
            jobId: j,
            runId: 'big',
            finishedAt: t + Math.floor(i / 5),
            score: (i % 10) / 10 + 0.05,
            // Every 7th image peaks in the top-left cell: the region of the audit finding below.
            camCell: i % 7 === 0 ? [0, 0] : [4, 4],
          });
    await publish(redis, ev);
  }
  await storeAudit(redis, 'big', [{ box: { x: 0, y: 0, width: 0.2, height: 0.2 } }]);
  // Another owner's run, and a bucket-event run of the hospital's bucket.
  await seedRun(redis, { runId: 'theirs', owner: tokenId(TOKENS.other) });
  await addJobs(redis, 'theirs', ['t1']);
  await publish(redis, completed({ jobId: 't1', runId: 'theirs' }));
  await seedRun(redis, {
    runId: 'scans-events',
    kind: 'events',
    owner: 'bucket-notifications',
    source: { bucket: 'scans' },
  });
  await addJobs(redis, 'scans-events', ['e1']);
  const e1 = completed({ jobId: 'e1', runId: 'scans-events', sourceBucket: 'scans' });
  await services.store.put(OUTPUT_BUCKET, e1.outputs.overlayKey, png(4, 4), 'image/png');
  await publish(redis, e1);
  await drained();
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

describe('results API', () => {
  it('pages through 250 results with limit 100, each exactly once, with concurrent inserts', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await get(api.port, `/v1/runs/big/results?limit=100${q}`, TOKENS.owner);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { jobId: string }) => i.jobId));
      cursor = res.body.nextCursor;
      if (pages++ === 0) {
        // Results arriving mid-pagination come later in the order and are listed once too.
        await addJobs(redis, 'big', ['late1', 'late2']);
        await publish(redis, completed({ jobId: 'late1', runId: 'big' }));
        await publish(redis, completed({ jobId: 'late2', runId: 'big' }));
        await drained();
      }
    }
    expect(seen).toHaveLength(252);
    expect(new Set(seen).size).toBe(252);
    expect(seen.slice(-2)).toEqual(['late1', 'late2']);
    // runOrder order: finishedAt, then job id.
    expect(seen.slice(0, 250)).toEqual([...seen.slice(0, 250)].sort());
  });

  it('lists items with prediction, outputs, stats and a presigned overlay URL that loads', async () => {
    const res = await get(api.port, '/v1/runs/scans-events/results', TOKENS.hospital);
    expect(res.status).toBe(200);
    const [item] = res.body.items;
    expect(item).toMatchObject({
      jobId: 'e1',
      status: 'completed',
      source: { bucket: 'scans', key: 'chest/e1.png' },
      prediction: { target: 0, scores: [0.8], predicted: 1 },
      outputs: { overlayKey: expect.stringContaining('overlay.png') },
      stats: { borderEnergy: 0.1 },
      flagged: false,
    });
    const img = await fetch(item.overlayUrl);
    expect(img.status).toBe(200);
    expect(
      Buffer.from(await img.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const job = await get(api.port, '/v1/jobs/e1', TOKENS.hospital);
    expect(job.body).toMatchObject({ jobId: 'e1', status: 'completed', runIds: ['scans-events'] });
  });

  it('filters by predicted class, flag, score range and status', async () => {
    const all = async (q: string) => {
      const items: { jobId: string; score?: number; flagged?: boolean; status: string }[] = [];
      let cursor = '';
      do {
        const res = await get(
          api.port,
          `/v1/runs/big/results?limit=1000&${q}${cursor ? `&cursor=${cursor}` : ''}`,
          TOKENS.owner,
        );
        expect(res.status).toBe(200);
        items.push(...res.body.items);
        cursor = res.body.nextCursor ?? '';
      } while (cursor);
      return items;
    };
    const failedItems = await all('status=failed');
    expect(failedItems).toHaveLength(10);
    // Flagged = carries a region of the run's audit findings, for the class it was predicted as.
    const flagged = await all('flagged=true');
    const expected = Array.from({ length: 250 }, (_, i) => i).filter(
      (i) => i % 25 !== 24 && i % 7 === 0 && (i % 10) / 10 + 0.05 >= 0.5,
    );
    expect(flagged.map((f) => f.jobId).sort()).toEqual(
      expected.map((i) => `b${String(i).padStart(3, '0')}`),
    );
    expect(flagged.every((i) => i.flagged)).toBe(true);
    expect(flagged.length + (await all('flagged=false')).length).toBe(252);
    const band = await all('minScore=0.3&maxScore=0.5');
    expect(band.length).toBeGreaterThan(0);
    expect(band.every((i) => (i.score ?? -1) >= 0.3 && (i.score ?? 2) <= 0.5)).toBe(true);
    const positives = await all('predicted=1');
    expect(positives.every((i) => (i.score ?? 0) >= 0.5)).toBe(true);
    expect(positives.length + (await all('predicted=0')).length).toBe(242);
    expect((await get(api.port, '/v1/runs/big/results?cursor=nope', TOKENS.owner)).status).toBe(
      400,
    );
    expect((await get(api.port, '/v1/runs/big/results?limit=0', TOKENS.owner)).body.error).toBe(
      'bad-request',
    );
  });

  it('answers 401 without a token, 403 without the scope, 404 for runs it may not see', async () => {
    const noToken = await get(api.port, '/v1/runs/big');
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatchObject({ error: 'unauthorized' });
    expect((await get(api.port, '/v1/runs/big', 'not-a-real-token-at-all')).status).toBe(401);
    expect((await get(api.port, '/v1/runs/big', TOKENS.writer)).status).toBe(403);
    for (const path of ['/v1/runs/theirs', '/v1/runs/theirs/results', '/v1/runs/theirs/report']) {
      const res = await get(api.port, path, TOKENS.owner);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'not-found' });
    }
    // Unknown and invisible runs look the same.
    expect((await get(api.port, '/v1/runs/nope', TOKENS.owner)).body).toEqual(
      (await get(api.port, '/v1/runs/theirs', TOKENS.owner)).body,
    );
    expect((await get(api.port, '/v1/jobs/t1', TOKENS.owner)).status).toBe(404);
    expect((await get(api.port, '/v1/jobs/t1', TOKENS.other)).status).toBe(200);
    expect((await get(api.port, '/v1/runs/theirs', TOKENS.admin)).status).toBe(200);
    // Bucket-event runs: visible to tokens allowed on that bucket, not to others.
    expect((await get(api.port, '/v1/runs/scans-events', TOKENS.hospital)).status).toBe(200);
    expect((await get(api.port, '/v1/runs/scans-events', TOKENS.elsewhere)).status).toBe(404);
    expect((await get(api.port, '/v1/runs/big', TOKENS.hospital)).status).toBe(404);
  });

  it('lists the runs a token may see, newest first', async () => {
    const mine = await get(api.port, '/v1/runs', TOKENS.owner);
    const ids = mine.body.items.map((r: { runId: string }) => r.runId);
    expect(ids).toContain('big');
    expect(ids).not.toContain('theirs');
    // Its buckets default to '*': bucket-event runs of every bucket are visible to it.
    expect(ids).toContain('scans-events');
    expect((await get(api.port, '/v1/runs', TOKENS.elsewhere)).body.items).toEqual([]);
    const hospital = await get(api.port, '/v1/runs', TOKENS.hospital);
    expect(hospital.body.items.map((r: { runId: string }) => r.runId)).toEqual(['scans-events']);
    const admin = await get(api.port, '/v1/runs?limit=2', TOKENS.admin);
    expect(admin.body.items).toHaveLength(2);
    const rest = await get(api.port, `/v1/runs?cursor=${admin.body.nextCursor}`, TOKENS.admin);
    const all = [...admin.body.items, ...rest.body.items].map((r) => r.createdAt as number);
    expect(all).toHaveLength(3);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    const big = (await get(api.port, '/v1/runs/big', TOKENS.owner)).body;
    expect(big).toMatchObject({ runId: 'big', status: 'completed', total: 252, completed: 242 });
    expect(big.failed).toBe(10);
  });

  it('serves health, readiness, metrics, OpenAPI and an admin-only Bull Board', async () => {
    expect((await get(api.port, '/healthz')).status).toBe(200);
    expect((await get(api.port, '/readyz')).status).toBe(401);
    expect((await get(api.port, '/readyz', TOKENS.owner)).body).toEqual({ ok: true });
    const metrics = await get(api.port, '/metrics', TOKENS.owner);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(
      /camflow_events_indexed_total\{[^}]*type="job.completed"[^}]*\} \d+/,
    );
    expect(metrics.text).toMatch(/camflow_queue_jobs\{[^}]*queue="camflow-bulk"/);
    expect(metrics.text).toMatch(/camflow_index_lag_seconds_count/);
    expect(metrics.text).toMatch(
      /camflow_http_request_duration_seconds_count\{[^}]*route="\/v1\/runs\/:runId"/,
    );
    expect(metrics.text).toMatch(/camflow_job_failures_total\{[^}]*reason="decode"[^}]*\} 10/);
    const doc = await get(api.port, '/openapi.json', TOKENS.owner);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/runs',
        '/v1/runs/{runId}',
        '/v1/runs/{runId}/results',
        '/v1/runs/{runId}/report',
        '/v1/jobs/{jobId}',
        '/v1/events',
      ]),
    );
    expect((await get(api.port, '/admin/queues')).status).toBe(401);
    expect((await get(api.port, '/admin/queues', TOKENS.owner)).status).toBe(403);
    const board = await get(api.port, '/admin/queues', TOKENS.admin);
    expect(board.status).toBe(200);
    expect(board.text).toContain('<html');
    const queues = await get(api.port, '/admin/queues/api/queues', TOKENS.admin);
    expect(queues.status).toBe(200);
    expect(JSON.stringify(queues.body)).toContain('camflow-realtime');
    expect((await get(api.port, '/nowhere', TOKENS.owner)).body).toMatchObject({
      error: 'not-found',
    });
  });
});
