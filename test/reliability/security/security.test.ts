// Security of the pipeline (issue 5): tokens on every route, scopes and buckets, the webhook
// secret, size and rate limits, secrets kept out of logs, output keys confined to their prefix,
// presigned URLs that expire. The services run as processes (LOG_LEVEL=debug, output captured);
// an extra in-process ingest and results API take the options a test needs (a small rate limit,
// a 2 s URL expiry) over the same Redis and S3.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { authenticate, outputKeys, parseApiTokens, tokenId } from '@camflow/contracts';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import { type IngestService, startIngest } from '@camflow/ingest';
import { type ResultsService, startResults } from '@camflow/results-api';
import { createLogger } from '@camflow/telemetry';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checker } from '../bad-input/check.js';
import { Outcomes } from '../bad-input/outcomes.js';
import {
  call,
  installModel,
  type Pipeline,
  type ResultItem,
  runResults,
  startPipeline,
  waitForJob,
  waitForRun,
  XRAY_ONNX,
} from '../bad-input/pipeline.js';
import { HOSTILE_KEYS, randomKeys } from './hostile-keys.js';
import { openSse } from './sse.js';

const T = {
  admin: 'sec-admin-token-7f3a91c2d8',
  writerA: 'sec-writer-a-token-41be07d5',
  otherA: 'sec-other-a-token-9c26e1f4',
  events: 'sec-events-token-d05b83a6e1',
  reader: 'sec-reader-token-2a7cf94b10',
};
const WRONG = {
  'near miss (same length)': `${T.admin.slice(0, -1)}${T.admin.endsWith('8') ? '9' : '8'}`,
  short: 'sec-adm',
  long: `${T.admin}-and-more`,
  'prefix of a token': T.admin.slice(0, 16),
};
const outcomes = new Outcomes('security');
const check = checker(outcomes);
const silent = createLogger('security-test', 'silent');
let p: Pipeline;
let limited: IngestService;
let expiring: ResultsService;
let png: Uint8Array;

beforeAll(async () => {
  p = await startPipeline({
    tokens: {
      [T.admin]: { scopes: ['admin'], buckets: ['*'] },
      [T.writerA]: { scopes: ['runs:write', 'results:read'], buckets: ['bucket-a'] },
      [T.otherA]: { scopes: ['runs:write', 'results:read'], buckets: ['bucket-a'] },
      [T.events]: { scopes: ['events:write'], buckets: ['bucket-a'] },
      [T.reader]: { scopes: ['results:read'], buckets: ['*'] },
    },
    rules: [{ bucket: 'bucket-a', suffix: '.png', model: 'xray@1' }],
    env: { LOG_LEVEL: 'debug' },
  });
  await installModel(p, XRAY_ONNX, 'xray', '1', { layer: 'resnet_blocks.4' });
  png = (await encodeSamplePngs(synthesizeSample({ count: 1, seed: 4, size: 96 }, 0))).image;
  for (const b of ['bucket-a', 'bucket-b']) await p.svc.store.ensureBucket(b);
  for (const k of ['scans/one.png', 'scans/two.png', 'single.png'])
    await p.svc.store.put('bucket-a', k, png, 'image/png');
  await p.svc.store.put('bucket-b', 'scans/one.png', png, 'image/png');
  limited = await startIngest(p.svc.config, {
    port: 0,
    host: '127.0.0.1',
    expansion: false,
    logger: silent,
    rateLimit: { max: 3, windowMs: 3_600_000 },
  });
  expiring = await startResults(p.svc.config, {
    port: 0,
    host: '127.0.0.1',
    indexer: false,
    logger: silent,
    // 2 s: X-Amz-Date has whole seconds, so a 1 s URL may already be past its expiry when fetched.
    overlayUrlExpirySeconds: 2,
  });
}, 90_000);

afterAll(async () => {
  await limited?.close();
  await expiring?.close();
  const codes = await p?.close();
  outcomes.write();
  expect(codes).toEqual([0, 0, 0]);
}, 60_000);

/** Records a case and asserts it. */

/** `METHOD path -> status` for each route, without a token and with each wrong token. */
async function unauthenticated(base: string, routes: [string, string][]) {
  const lines: string[] = [];
  for (const [method, path] of routes) {
    const init = method === 'POST' ? { method, json: {} } : { method };
    const statuses = [(await call(`${base}${path}`, undefined, init)).status];
    for (const wrong of Object.values(WRONG))
      statuses.push((await call(`${base}${path}`, wrong, init)).status);
    lines.push(`${method} ${path} -> ${[...new Set(statuses)].join(',')}`);
  }
  return lines;
}

/** The ingest app's routes, as fastify lists them (a tree: a child line extends its parent's path). */
function ingestRoutes(): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of limited.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)(\/\S*)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.floor(m[1].length / 4);
    stack.length = depth;
    stack[depth] = m[2];
    const path = stack.join('').replace(/\/\//g, '/');
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD') out.push([method, path]);
  }
  return out;
}

describe('every route but /healthz needs a token', () => {
  test('ingest: 401 without a token and with wrong, short or long ones', async () => {
    const routes = ingestRoutes().filter(([, path]) => path !== '/healthz');
    expect(routes.map(([m, r]) => `${m} ${r}`).sort()).toEqual(
      [
        'GET /metrics',
        'GET /readyz',
        'GET /v1/models',
        'POST /dicomweb/studies',
        'POST /dicomweb/studies/:study',
        'POST /v1/events/s3',
        'POST /v1/jobs',
        'POST /v1/runs',
      ].sort(),
    );
    const lines = await unauthenticated(p.ingest, routes);
    check(
      'ingest routes without a valid token',
      routes.map(([m, r]) => `${m} ${r} -> 401`).join('; '),
      lines.join('; '),
    );
  });

  test('results API: 401 on every documented route, Bull Board, SSE and unknown URLs', async () => {
    const spec = await call<{ paths: Record<string, unknown> }>(
      `${p.results}/openapi.json`,
      T.admin,
    );
    expect(spec.status).toBe(200);
    const documented = Object.keys(spec.body.paths).map((path) => path.replace(/\{[^}]+\}/g, 'x1'));
    expect(documented).toEqual(
      expect.arrayContaining([
        '/readyz',
        '/metrics',
        '/openapi.json',
        '/v1/events',
        '/v1/runs',
        '/v1/runs/x1',
        '/v1/runs/x1/results',
        '/v1/runs/x1/report',
        '/v1/jobs/x1',
      ]),
    );
    const paths = [
      ...documented.filter((x) => x !== '/healthz'),
      '/admin/queues',
      '/admin/queues/api/queues',
      '/no/such/route',
    ];
    const routes = paths.map((x) => ['GET', x] as [string, string]);
    const lines = await unauthenticated(p.results, routes);
    check(
      'results routes without a valid token',
      routes.map(([m, r]) => `${m} ${r} -> 401`).join('; '),
      lines.join('; '),
    );
  });

  test('/healthz is public on ingest, results and the worker', async () => {
    check(
      'healthz without a token',
      JSON.stringify({ ingest: 200, results: 200, worker: 200 }),
      JSON.stringify(await p.health()),
    );
  });
});

describe('scopes and buckets', () => {
  test('a token for bucket A cannot start work on bucket B: 403', async () => {
    const run = await call(`${p.ingest}/v1/runs`, T.writerA, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'bucket-b', prefix: 'scans/' } },
    });
    const job = await call(`${p.ingest}/v1/jobs`, T.writerA, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'bucket-b', key: 'scans/one.png' } },
    });
    const event = await call(`${p.ingest}/v1/events/s3`, T.events, {
      method: 'POST',
      json: {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'bucket-b' }, object: { key: 'scans/one.png' } },
          },
        ],
      },
    });
    const observed = [run, job, event].map(
      (r) => `${r.status} ${(r.body as { message?: string }).message}`,
    );
    const pass = observed.every((o) => /^403 .*bucket-b/.test(o));
    check(
      'bucket A token on bucket B (run, job, event)',
      '403 naming bucket-b, x3',
      observed.join(' | '),
      pass,
    );
  });

  test("a token cannot see another token's run: 404, and it is not listed", async () => {
    const created = await call<{ runId: string }>(`${p.ingest}/v1/runs`, T.writerA, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'bucket-a', prefix: 'scans/' } },
    });
    expect(created.status).toBe(202);
    const { runId } = created.body;
    expect(await waitForRun(p, T.writerA, runId)).toMatchObject({
      status: 'completed',
      completed: 2,
    });
    const [item] = await runResults(p, T.writerA, runId);
    const urls = [
      `/v1/runs/${runId}`,
      `/v1/runs/${runId}/results`,
      `/v1/runs/${runId}/report`,
      `/v1/jobs/${item.jobId}`,
    ];
    const seen = async (token: string) =>
      (await Promise.all(urls.map((u) => call(`${p.results}${u}`, token))))
        .map((r) => r.status)
        .join(',');
    const listed = async (token: string) => {
      const r = await call<{ items: { runId: string }[] }>(`${p.results}/v1/runs?limit=500`, token);
      return r.body.items.some((x) => x.runId === runId);
    };
    const observed = `owner ${await seen(T.writerA)} listed ${await listed(T.writerA)}; other token ${await seen(T.otherA)} listed ${await listed(T.otherA)}; admin ${await seen(T.admin)}`;
    check(
      "another token's run",
      'owner 200,200,200,200 listed true; other token 404,404,404,404 listed false; admin 200,200,200,200',
      observed,
    );
  }, 60_000);

  test('events:write cannot read results; results:read cannot write; only admin opens /admin/queues', async () => {
    const reads = await Promise.all(
      ['/v1/runs', '/v1/runs/x1', '/v1/jobs/x1', '/metrics', '/readyz'].map((u) =>
        call(`${p.results}${u}`, T.events),
      ),
    );
    const sse = await openSse(`${p.results}/v1/events`, T.events);
    await sse.close();
    const write = await call(`${p.ingest}/v1/runs`, T.reader, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'bucket-a', prefix: 'scans/' } },
    });
    const board = await Promise.all(
      [T.writerA, T.reader, T.admin].map((t) => call(`${p.results}/admin/queues`, t)),
    );
    const observed = `events:write reads ${reads.map((r) => r.status).join(',')} sse ${sse.status}; results:read writes ${write.status}; /admin/queues ${board.map((r) => r.status).join(',')}`;
    check(
      'scopes',
      'events:write reads 403,403,403,403,403 sse 403; results:read writes 403; /admin/queues 403,403,200',
      observed,
    );
  });

  test('live events reach only the tokens that may see the run', async () => {
    const [owner, other, admin] = await Promise.all(
      [T.writerA, T.otherA, T.admin].map((t) => openSse(`${p.results}/v1/events`, t)),
    );
    try {
      for (const s of [owner, other, admin])
        expect(await s.waitFor(/: connected/, 10_000)).toBe(true);
      const r = await call<{ jobId: string }>(`${p.ingest}/v1/jobs`, T.writerA, {
        method: 'POST',
        json: {
          model: 'xray@1',
          source: { bucket: 'bucket-a', key: 'single.png' },
          method: 'layercam',
        },
      });
      expect(r.status).toBe(202);
      const id = new RegExp(r.body.jobId);
      const got = [await owner.waitFor(id, 30_000), await admin.waitFor(id, 10_000)];
      // The other token's stream had the same chance to receive it.
      await new Promise((res) => setTimeout(res, 500));
      const observed = `owner ${got[0]}, admin ${got[1]}, other token ${id.test(other.text())}`;
      check('SSE isolation', 'owner true, admin true, other token false', observed);
    } finally {
      await Promise.all([owner, other, admin].map((s) => s.close()));
    }
  }, 60_000);
});

describe('the webhook shared secret', () => {
  test('authenticate compares digests with timingSafeEqual; near misses of equal length fail', () => {
    const tokens = parseApiTokens(JSON.stringify({ [T.events]: { scopes: ['events:write'] } }));
    expect(authenticate(tokens, `Bearer ${T.events}`)?.id).toBe(tokenId(T.events));
    const misses = [0, 5, T.events.length - 1].map((i) => {
      const c = T.events[i] === 'z' ? 'y' : 'z';
      return `${T.events.slice(0, i)}${c}${T.events.slice(i + 1)}`;
    });
    const results = [...misses, T.events.toUpperCase(), `${T.events} `, '', 'x'].map((t) =>
      authenticate(tokens, `Bearer ${t}`),
    );
    expect(misses.every((m) => m.length === T.events.length)).toBe(true);
    // The implementation: one timingSafeEqual per configured token, no lookup keyed by the token.
    const src = readFileSync(
      join(import.meta.dirname, '../../../libs/contracts/src/auth.ts'),
      'utf8',
    );
    const body = src.slice(
      src.indexOf('export function authenticate('),
      src.indexOf('export function hasScope('),
    );
    const constantTime =
      /timingSafeEqual\(/.test(body) &&
      !/tokens\.(get|has)\(/.test(body) &&
      !/\breturn p\b/.test(body);
    const services = ['ingest/src/auth.ts', 'results-api/src/auth.ts'].map((f) =>
      readFileSync(join(import.meta.dirname, '../../../services', f), 'utf8'),
    );
    const shared = services.every((s) => /authenticate\(tokens,/.test(s));
    const observed = `near misses accepted: ${results.filter(Boolean).length}; timingSafeEqual, full scan: ${constantTime}; both services use it: ${shared}`;
    check(
      'constant-time token check',
      'near misses accepted: 0; timingSafeEqual, full scan: true; both services use it: true',
      observed,
    );
  });

  test('wrong, short and long tokens: 401 in every place the webhook may send one', async () => {
    const url = `${p.ingest}/v1/events/s3`;
    const json = { Records: [] };
    const lines: string[] = [];
    for (const [name, wrong] of Object.entries(WRONG)) {
      const header = await call(url, wrong, { method: 'POST', json });
      const alt = await call(url, undefined, {
        method: 'POST',
        json,
        headers: { 'x-camflow-token': wrong },
      });
      const query = await call(`${url}?token=${encodeURIComponent(wrong)}`, undefined, {
        method: 'POST',
        json,
      });
      lines.push(`${name} ${header.status},${alt.status},${query.status}`);
    }
    const right = await call(url, undefined, {
      method: 'POST',
      json,
      headers: { 'x-camflow-token': T.events },
    });
    lines.push(`right ${right.status}`);
    const expected = [...Object.keys(WRONG).map((n) => `${n} 401,401,401`), 'right 202'].join('; ');
    check(
      'webhook with wrong tokens (header, X-Camflow-Token, ?token=)',
      expected,
      lines.join('; '),
    );
  });
});

describe('limits', () => {
  test('request bodies over 1 MiB: 413', async () => {
    const pad = 'x'.repeat(1024 * 1024 + 10);
    const run = await call(`${p.ingest}/v1/runs`, T.writerA, {
      method: 'POST',
      json: { model: 'xray@1', pad },
    });
    const event = await call(`${p.ingest}/v1/events/s3`, T.events, {
      method: 'POST',
      json: { pad },
    });
    check('bodies over 1 MiB', '413,413', `${run.status},${event.status}`);
  });

  test('headers over 16 KiB: 431, and the services stay up', async () => {
    const big = { 'x-padding': 'y'.repeat(20_000) };
    const statuses = await Promise.all(
      [p.ingest, p.results].map((base) =>
        call(`${base}/healthz`, T.admin, { headers: big }).then((r) => r.status),
      ),
    );
    const health = await p.health();
    check(
      'oversized headers',
      '431,431 then healthz 200,200',
      `${statuses.join(',')} then healthz ${health.ingest},${health.results}`,
    );
  });

  test('rate limit on ingest: 429 with Retry-After after the limit, counted per token', async () => {
    const base = `http://127.0.0.1:${limited.port}`;
    const body = { model: 'xray@1', source: { bucket: 'bucket-a', prefix: 'none/' } };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await call(`${base}/v1/runs`, T.writerA, { method: 'POST', json: body });
      statuses.push(r.status);
      if (r.status === 429) retryAfter ??= r.headers.get('retry-after');
    }
    const other = await call(`${base}/v1/runs`, T.otherA, { method: 'POST', json: body });
    const seconds = Number(retryAfter);
    const observed = `${statuses.join(',')}; Retry-After in [1, 3600]: ${seconds >= 1 && seconds <= 3600}; another token ${other.status}`;
    check(
      'rate limit 3 per window',
      '202,202,202,429,429; Retry-After in [1, 3600]: true; another token 202',
      observed,
    );
  });
});

describe('output keys never leave the run prefix', () => {
  test('outputKeys over hostile and random keys', () => {
    const keys = [...HOSTILE_KEYS, ...randomKeys(2000)].filter((k) => k.length > 0);
    const bad: string[] = [];
    for (const bucket of ['bucket-a', 'my.bucket', 'b1']) {
      for (const key of keys) {
        const jobId = 'x0123456789abcdef';
        for (const out of Object.values(outputKeys(bucket, key, jobId))) {
          const segments = out.split('/');
          const ok =
            out.startsWith(`explanations/${bucket}/`) &&
            segments.every((s) => s !== '' && s !== '.' && s !== '..') &&
            segments.at(-2) === jobId &&
            segments.length === key.split('/').length + 4 &&
            posix.normalize(out) === out &&
            // As a URL (each segment encoded, as the S3 SDK sends keys), dot-segment removal
            // cannot climb out either.
            new URL(
              out.split('/').map(encodeURIComponent).join('/'),
              'http://s3.local/',
            ).pathname.startsWith(`/explanations/${bucket}/`) &&
            // Nothing raw that a file system or URL would read specially.
            !/[\p{Cc}\\?#]/u.test(out);
          if (!ok) bad.push(`${JSON.stringify(key)} -> ${out}`);
        }
      }
    }
    check(
      'outputKeys fuzz',
      `0 of ${keys.length * 9} keys escape`,
      `${bad.length} of ${keys.length * 9} keys escape${bad.length ? `: ${bad.slice(0, 3).join(', ')}` : ''}`,
    );
  });

  test('a hostile key cannot enter: the embedded S3 refuses it, an event naming it is skipped', async () => {
    // Before the key policy this key was stored, explained, and its outputs encoded into the
    // output prefix; now no door lets it in (traversal.test.ts covers every door).
    const key = 'x/../../hostile.png';
    const stored = await p.svc.store.put('bucket-a', key, png, 'image/png').then(
      () => 'stored',
      (err: Error) => `refused (${err.name})`,
    );
    const r = await call<{ jobs: unknown[]; ignored: number }>(
      `${p.ingest}/v1/events/s3`,
      T.events,
      {
        method: 'POST',
        json: {
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: { bucket: { name: 'bucket-a' }, object: { key: 'x/..%2F..%2Fhostile.png' } },
            },
          ],
        },
      },
    );
    const observed = `${stored.startsWith('refused') ? 'refused' : stored}; event ${r.status}, ${r.body.jobs.length} jobs, ${r.body.ignored} ignored`;
    check('hostile key x/../../hostile.png', 'refused; event 202, 0 jobs, 1 ignored', observed);
  }, 60_000);
});

describe('presigned URLs', () => {
  test('expire: 200 at once, 403 once the expiry has passed', async () => {
    const r = await call<{ jobId: string }>(`${p.ingest}/v1/jobs`, T.admin, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'bucket-a', key: 'single.png' } },
    });
    await waitForJob(p, T.admin, r.body.jobId);
    const job = await call<ResultItem>(
      `http://127.0.0.1:${expiring.port}/v1/jobs/${r.body.jobId}`,
      T.admin,
    );
    const url = job.body.overlayUrl ?? '';
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('2');
    const now = (await fetch(url)).status;
    await new Promise((res) => setTimeout(res, 3500));
    const later = await fetch(url);
    const text = await later.text();
    check(
      'overlay URL with a 2 s expiry',
      '200 then 403 (expired)',
      `${now} then ${later.status}${/expired/i.test(text) ? ' (expired)' : ''}`,
    );
  }, 60_000);
});

describe('logs (last: they cover everything above)', () => {
  test('no token, S3 secret or presigned URL in the services’ debug logs', async () => {
    // One more pass over the routes that see secrets: a results page (presigns), a report.
    const runs = await call<{ items: { runId: string }[] }>(`${p.results}/v1/runs`, T.admin);
    for (const { runId } of runs.body.items.slice(0, 3)) {
      await runResults(p, T.admin, runId);
      await call(`${p.results}/v1/runs/${runId}/report`, T.admin);
    }
    const logs = p.logs();
    const all = Object.values(logs).join('\n');
    const secrets = [
      ...Object.values(T),
      ...Object.values(WRONG),
      p.svc.env.S3_SECRET_ACCESS_KEY,
      'X-Amz-Signature',
      'X-Amz-Credential',
    ];
    const leaked = secrets.filter((s) => all.includes(s));
    const debugLines = all.split('\n').filter((l) => l.includes('"level":20')).length;
    const observed = `${leaked.length} secrets in ${Object.values(logs)
      .map((l) => l.length)
      .join(
        '+',
      )} bytes of logs (${debugLines} debug lines)${leaked.length ? `: ${leaked.map((s) => s.slice(0, 12)).join(', ')}` : ''}`;
    const pass = leaked.length === 0 && debugLines > 0;
    check('secrets in debug logs', '0 secrets in the logs (debug on)', observed, pass);
  }, 60_000);
});
