// The key policy (issue 13, section 1): a token limited to one bucket must not reach another
// bucket's objects through `..`, empty or absolute segments in any key that enters: run keys,
// prefixes, manifest paths and their entries, single jobs, bucket events (after URL-decoding).
// Before the policy, s3rver resolved `..` on its file system and such jobs completed with the
// other tenant's image. The embedded s3rver itself also refuses such keys (it is for development).

import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checker } from '../bad-input/check.js';
import { Outcomes } from '../bad-input/outcomes.js';
import {
  call,
  installModel,
  type Pipeline,
  runResults,
  startPipeline,
  waitForRun,
  XRAY_ONNX,
} from '../bad-input/pipeline.js';

const T = {
  tenantA: 'key-policy-tenant-a-3f9e27c1',
  events: 'key-policy-events-a-80d4b6e2',
  admin: 'key-policy-admin-token-5c1a9e',
};
const OTHER = 'other/private/b-only.png';
const outcomes = new Outcomes('key-policy');
const check = checker(outcomes);
let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    tokens: {
      [T.tenantA]: { scopes: ['runs:write', 'results:read'], buckets: ['data'] },
      [T.events]: { scopes: ['events:write'], buckets: ['data'] },
      [T.admin]: { scopes: ['admin'], buckets: ['*'] },
    },
    rules: [{ bucket: 'data', suffix: '.png', model: 'xray@1' }],
  });
  await installModel(p, XRAY_ONNX, 'xray', '1', { layer: 'resnet_blocks.4' });
  const png = (await encodeSamplePngs(synthesizeSample({ count: 1, seed: 9, size: 96 }, 0))).image;
  for (const b of ['data', 'other']) await p.svc.store.ensureBucket(b);
  await p.svc.store.put('data', 'scans/ok.png', png, 'image/png');
  await p.svc.store.put('other', 'private/b-only.png', png, 'image/png');
  await p.svc.store.put(
    'other',
    'set/manifest.csv',
    Buffer.from('key,label\nprivate/b-only.png,1\n'),
  );
  await p.svc.store.put(
    'data',
    'set/manifest.csv',
    Buffer.from(`key,label\nscans/ok.png,0\n../${OTHER},1\nset/../../${OTHER},1\n/abs.png,0\n`),
  );
}, 90_000);

afterAll(async () => {
  const codes = await p?.close();
  outcomes.write();
  expect(codes).toEqual([0, 0, 0]);
}, 60_000);

const post = (path: string, json: unknown, token = T.tenantA) =>
  call<{ error?: string; message?: string; runId?: string }>(`${p.ingest}${path}`, token, {
    method: 'POST',
    json,
  });

/** `400 validation` and whether the message names the key and the dot-segment rule. */
function refusal(r: { status: number; body: { error?: string; message?: string } }, key: string) {
  const named = (r.body.message ?? '').includes(JSON.stringify(key));
  const rule = /keys may not contain "\." or "\.\." segments/.test(r.body.message ?? '');
  return `${r.status} ${r.body.error}; names the key: ${named}; names the rule: ${rule}`;
}
const REFUSED = '400 validation; names the key: true; names the rule: true';

describe('keys that climb out of the bucket are refused at the door', () => {
  const vectors: [string, Record<string, unknown>, string][] = [
    ['run keys: ../other/...', { keys: [`../${OTHER}`] }, `../${OTHER}`],
    ['run keys: set/../../other/...', { keys: [`set/../../${OTHER}`] }, `set/../../${OTHER}`],
    ['run prefix: ../other/', { prefix: '../other/' }, '../other/'],
    [
      'run manifest path: ../other/set/manifest.csv',
      { manifest: '../other/set/manifest.csv' },
      '../other/set/manifest.csv',
    ],
    [
      'run keys into the output bucket',
      { keys: ['../camflow-outputs/explanations/x.png'] },
      '../camflow-outputs/explanations/x.png',
    ],
    [
      'run keys into the model bucket',
      { keys: ['../camflow-models/models/xray/1/model.json'] },
      '../camflow-models/models/xray/1/model.json',
    ],
  ];
  test.each(vectors)('%s', async (name, source, key) => {
    const r = await post('/v1/runs', { model: 'xray@1', source: { bucket: 'data', ...source } });
    check(name, REFUSED, refusal(r, key));
  });

  test('POST /v1/jobs with ../other/...', async () => {
    const r = await post('/v1/jobs', {
      model: 'xray@1',
      source: { bucket: 'data', key: `../${OTHER}` },
    });
    check('single job: ../other/...', REFUSED, refusal(r, `../${OTHER}`));
  });

  test('other rules: leading slash, empty segment, NUL, over 1024 bytes', async () => {
    const cases: [string, RegExp][] = [
      ['/other/private/b-only.png', /may not start with "\/"/],
      ['scans//ok.png', /empty segments/],
      ['scans/ok\u0000.png', /control characters/],
      ['x'.repeat(1025), /at most 1024 bytes/],
    ];
    const seen: string[] = [];
    for (const [key, rule] of cases) {
      const r = await post('/v1/runs', {
        model: 'xray@1',
        source: { bucket: 'data', keys: [key] },
      });
      seen.push(
        `${r.status}${rule.test(r.body.message ?? '') ? ' rule named' : ` ${r.body.message}`}`,
      );
    }
    check(
      'leading slash, empty segment, NUL, 1025 bytes',
      '400 rule named x4',
      seen.every((s) => s === '400 rule named') ? '400 rule named x4' : seen.join('; '),
    );
  });
});

describe('keys inside a manifest and in bucket events', () => {
  test('manifest entries that climb out are skipped and counted; the rest of the run completes', async () => {
    const r = await post('/v1/runs', {
      model: 'xray@1',
      source: { bucket: 'data', manifest: 'set/manifest.csv' },
    });
    expect(r.status).toBe(202);
    const status = await waitForRun(p, T.tenantA, r.body.runId!);
    const items = await runResults(p, T.tenantA, r.body.runId!);
    const run = await call<{ skipped: number }>(`${p.results}/v1/runs/${r.body.runId}`, T.tenantA);
    check(
      'manifest entries ../other/..., set/../../other/..., /abs.png',
      'completed 1 of 1 (data/scans/ok.png); 3 skipped',
      `${status.status} ${status.completed} of ${status.total} (${items.map((i) => `${i.source.bucket}/${i.source.key}`).join(', ')}); ${run.body.skipped} skipped`,
    );
  }, 60_000);

  test('an event whose key decodes to incoming/../../other/...: skipped, logged, counted', async () => {
    const metric = async () => {
      const m = await call<string>(`${p.ingest}/metrics`, T.admin);
      return Number(
        /camflow_ingest_events_ignored_total\{[^}]*reason="unsafe-key"[^}]*\} (\d+)/.exec(
          m.body,
        )?.[1] ?? 0,
      );
    };
    const before = await metric();
    const r = await call<{ jobs: unknown[]; ignored: number }>(
      `${p.ingest}/v1/events/s3`,
      T.events,
      {
        method: 'POST',
        json: {
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: {
                bucket: { name: 'data' },
                object: { key: 'incoming%2F..%2F..%2Fother%2Fprivate%2Fb-only.png' },
              },
            },
            {
              eventName: 'ObjectCreated:Put',
              s3: {
                bucket: { name: 'data' },
                object: { key: 'incoming/..%2F..%2Fother/private/b-only.png' },
              },
            },
          ],
        },
      },
    );
    const after = await metric();
    const logged = p.logs().ingest.includes('notification record skipped: unsafe key');
    check(
      'event keys decoding to incoming/../../other/...',
      '202, 0 jobs, 2 ignored; metric +2; logged: true',
      `${r.status}, ${r.body.jobs.length} jobs, ${r.body.ignored} ignored; metric +${after - before}; logged: ${logged}`,
    );
  });
});

describe('the embedded s3rver (development only) refuses keys that leave its folder', () => {
  /** A raw request: fetch() would resolve the dot segments before sending them. */
  const raw = (method: string, path: string, body?: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(p.svc.env.S3_ENDPOINT);
      const req = http.request({ host: url.hostname, port: url.port, method, path }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });

  test('PUT x/../../../../escape.png, a 300-byte segment, then a normal key', async () => {
    const s3Dir = join(p.svc.dir, 's3');
    const dotted = await raw('PUT', '/data/x/../../../../escape.png', 'x');
    const encoded = await raw('PUT', '/data/x/%2E%2E/%2E%2E/%2E%2E/escape2.png', 'x');
    const long = await raw('PUT', `/data/${'a'.repeat(300)}.png`, 'x');
    const normal = await raw('PUT', '/data/plain/ok.txt', 'x');
    const outside = ['escape.png', 'escape2.png'].filter(
      (f) => existsSync(join(s3Dir, '..', f)) || existsSync(join(s3Dir, f)),
    );
    const files = readdirSync(s3Dir, { recursive: true, encoding: 'utf8' });
    check(
      'raw PUTs to s3rver: ../ escape, %2E%2E escape, 300-byte segment, normal key',
      '400, 400, 400, 200; nothing written outside the bucket folders',
      `${dotted}, ${encoded}, ${long}, ${normal}; ${outside.length === 0 && !files.some((f) => f.includes('escape')) ? 'nothing written outside the bucket folders' : `written: ${outside.join(', ')}`}`,
    );
  });
});
