// Input hardening (issue 13, sections 2 and 3): inputs that used to waste retries, hang a run or
// answer 500 now fail once, clearly. Each case failed before its fix. The services run as
// processes over a real redis-server and s3rver.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedCardJson } from '@camflow/imaging';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CAMFLOW_BIN } from '../../../services/cli/src/demo/service-process.js';
import { checker } from '../bad-input/check.js';
import { Outcomes } from '../bad-input/outcomes.js';
import {
  call,
  installModel,
  type Pipeline,
  startPipeline,
  waitForRun,
  XRAY_ONNX,
} from '../bad-input/pipeline.js';

const T = {
  admin: 'hardening-admin-token-4f0c2a9e',
  reader: 'hardening-reader-token-8b1d7e35',
  events: 'hardening-events-token-2c6a9f10',
};
const outcomes = new Outcomes('hardening');
const check = checker(outcomes);
let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    tokens: {
      [T.admin]: { scopes: ['admin'], buckets: ['*'] },
      [T.reader]: { scopes: ['results:read'], buckets: ['*'] },
      [T.events]: { scopes: ['events:write'], buckets: ['data'] },
    },
    rules: [{ bucket: 'data', model: 'xray@1' }],
  });
  await installModel(p, XRAY_ONNX, 'xray', '1', { layer: 'resnet_blocks.4' });
  await p.svc.store.ensureBucket('data');
  await p.svc.store.put(
    'data',
    'not-an-image.png',
    Buffer.from('plain text, not a PNG'),
    'image/png',
  );
}, 90_000);

afterAll(async () => {
  const codes = await p?.close();
  outcomes.write();
  expect(codes).toEqual([0, 0, 0]);
}, 60_000);

const post = (path: string, json: unknown, token = T.admin) =>
  call<{ error?: string; message?: string; runId?: string }>(`${p.ingest}${path}`, token, {
    method: 'POST',
    json,
  });

describe('inputs that must fail once, clearly', () => {
  test('a card asking for a 100000-pixel input is refused at push', () => {
    const card = join(p.svc.dir, 'huge.json');
    writeFileSync(
      card,
      JSON.stringify({
        ...seedCardJson,
        name: 'huge',
        version: '1',
        input: { ...seedCardJson.input, size: 100000 },
      }),
    );
    const r = spawnSync(
      process.execPath,
      [
        CAMFLOW_BIN,
        'models',
        'push',
        XRAY_ONNX,
        '--card',
        card,
        '--name',
        'huge',
        '--version',
        '1',
      ],
      {
        env: { ...process.env, ...p.svc.env },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    check(
      'models push with input.size 100000',
      'exit 2, names the limit',
      `exit ${r.status}, names the limit`,
      r.status === 2 && /at most 8192 pixels/.test(r.stderr),
    );
  });

  test("a target outside the model's outputs is refused at ingest (400), not failed job by job", async () => {
    const r = await post('/v1/runs', {
      model: 'xray@1',
      source: { bucket: 'data', keys: ['not-an-image.png'] },
      target: 3,
    });
    check(
      'run with target 3 on a 1-output model',
      '400 invalid_target',
      `${r.status} ${r.body.error}`,
    );
    expect(r.body.message).toMatch(/target 3 is not an output of xray@1 \(1 output/);
  });

  test('a run whose every job failed is failed, and says why', async () => {
    const r = await post('/v1/runs', {
      model: 'xray@1',
      source: { bucket: 'data', keys: ['not-an-image.png'] },
    });
    const s = await waitForRun(p, T.admin, r.body.runId!);
    const status = await call<{ failures: { reasons: Record<string, number>; example: string } }>(
      `${p.results}/v1/runs/${r.body.runId}`,
      T.admin,
    );
    const reasons = status.body.failures?.reasons ?? {};
    check(
      'run of 1 undecodable image',
      'failed, 1 failed; reasons: unsupported-format 1',
      `${s.status}, ${s.failed} failed; reasons: ${Object.entries(reasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }, 60_000);

  test('an S3 event key over 1024 bytes is skipped and counted, never queued', async () => {
    const r = await call<{ jobs: unknown[]; ignored: number }>(
      `${p.ingest}/v1/events/s3`,
      T.events,
      {
        method: 'POST',
        json: {
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: { bucket: { name: 'data' }, object: { key: `in/${'k'.repeat(1100)}.png` } },
            },
          ],
        },
      },
    );
    check(
      'event key of 1104 bytes',
      '202, 0 jobs, 1 ignored',
      `${r.status}, ${r.body.jobs?.length} jobs, ${r.body.ignored} ignored`,
    );
  });
});

describe('answers that were 500s, resets or too lenient', () => {
  test("a run id naming one of the run's Redis keys: 404, not a WRONGTYPE 500", async () => {
    const r = await post('/v1/runs', {
      model: 'xray@1',
      source: { bucket: 'data', keys: ['not-an-image.png'] },
    });
    const statuses = [];
    for (const suffix of [':jobs', ':done', ':order', ':labels']) {
      statuses.push((await call(`${p.results}/v1/runs/${r.body.runId}${suffix}`, T.admin)).status);
      statuses.push(
        (await call(`${p.results}/v1/runs/${r.body.runId}${suffix}/results`, T.admin)).status,
      );
    }
    statuses.push((await call(`${p.results}/v1/jobs/x:runs`, T.admin)).status);
    check(
      'run ids with :jobs, :done, :order, :labels; job id x:runs',
      '404 x9',
      statuses.every((s) => s === 404) ? '404 x9' : statuses.join(','),
    );
  });

  test('a 50 MB body gets 413, not a reset connection', async () => {
    const body = Buffer.alloc(50 * 1024 * 1024, 32);
    const r = await fetch(`${p.ingest}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${T.admin}`, 'content-type': 'application/json' },
      body,
    }).then(
      async (res) => `${res.status} ${((await res.json()) as { error: string }).error}`,
      (err: Error & { cause?: { code?: string } }) => `error ${err.cause?.code ?? err.message}`,
    );
    check('POST /v1/runs with a 50 MB body', '413 payload_too_large', r);
  }, 60_000);

  test("Bull Board's 401 and 403 answer like every other route", async () => {
    const none = await call<{ error: string }>(`${p.results}/admin/queues`, undefined);
    const reader = await call<{ error: string }>(`${p.results}/admin/queues/api/queues`, T.reader);
    check(
      'Bull Board without a token, and with a results:read token',
      '401 unauthorized; 403 forbidden',
      `${none.status} ${none.body.error}; ${reader.status} ${reader.body.error}`,
    );
  });

  test('the Authorization header follows the Bearer grammar exactly (one space, a b64token)', async () => {
    const statuses = [];
    for (const header of [
      `Bearer\u00a0${T.admin}`,
      `Bearer  ${T.admin}`,
      `Bearer\t${T.admin}`,
      `Bearer ${T.admin}`,
    ]) {
      const r = await fetch(`${p.results}/v1/runs`, { headers: { authorization: header } });
      statuses.push(r.status);
    }
    check('NBSP, two spaces, tab, one space', '401,401,401,200', statuses.join(','));
  });
});
