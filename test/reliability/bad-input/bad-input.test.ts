// Bad input through the real pipeline (redis-server, s3rver, the three services as processes):
// every case gets a clear outcome (an overlay at source resolution, a permanent failure with its
// reason after exactly one attempt, or an HTTP 4xx with a message), and no service crashes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelKeys, QUEUES } from '@camflow/contracts';
import { seedCardJson } from '@camflow/imaging';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Expected, imageCorpus } from './image-corpus.js';
import { CORRUPT_ONNX, topkCard, topkModel } from './model-fixtures.js';
import { Outcomes } from './outcomes.js';
import {
  type Answer,
  call,
  installModel,
  type Pipeline,
  pushModel,
  type ResultItem,
  runResults,
  startPipeline,
  waitForJob,
  waitForRun,
  XRAY_ONNX,
} from './pipeline.js';

const ADMIN = 'bad-input-admin-token-0123456789';
const corpus = await imageCorpus();
const outcomes = new Outcomes('bad-input');
let p: Pipeline;
let queues: Queue[] = [];

beforeAll(async () => {
  p = await startPipeline({
    tokens: { [ADMIN]: { scopes: ['admin'], buckets: ['*'] } },
    rules: [{ bucket: 'scanner', suffix: '.png', model: 'xray@1' }],
  });
  queues = [QUEUES.realtime, QUEUES.bulk].map(
    (q) => new Queue(q, { connection: { url: p.svc.env.REDIS_URL } }),
  );
  await installModel(p, XRAY_ONNX, 'xray', '1', { layer: 'resnet_blocks.4' });
  for (const b of ['data', 'scanner']) await p.svc.store.ensureBucket(b);
  for (const c of corpus) await p.svc.store.put('data', `corpus/${c.file}`, c.bytes, 'image/png');
}, 90_000);

afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  const codes = await p?.close();
  outcomes.write();
  expect(codes).toEqual([0, 0, 0]);
}, 60_000);

/** How an outcome reads in the report. */
function describeExpected(e: Expected): string {
  return e.status === 'completed'
    ? `completed: overlay ${e.width}x${e.height}`
    : `failed: ${e.reason} after 1 attempt (${e.message.source.replace(/\\(.)/g, '$1')})`;
}

/** Compares a result with the expectation; records and returns what was observed. */
async function observe(name: string, item: ResultItem | undefined, e: Expected) {
  let observed = 'no result';
  let pass = false;
  if (item?.status === 'completed') {
    const r = await fetch(item.overlayUrl as string);
    const meta = r.ok ? await sharp(Buffer.from(await r.arrayBuffer())).metadata() : undefined;
    observed = `completed: overlay ${meta?.width}x${meta?.height}`;
    pass = e.status === 'completed' && observed === describeExpected(e);
  } else if (item?.status === 'failed') {
    const n = item.attempts;
    observed = `failed: ${item.error?.reason} after ${n} attempt${n === 1 ? '' : 's'}: ${item.error?.message}`;
    pass =
      e.status === 'failed' &&
      item.error?.reason === e.reason &&
      e.message.test(item.error.message) &&
      n === 1 &&
      (await bullAttempts(item.jobId)) === 1;
  }
  outcomes.record(name, describeExpected(e), observed, pass);
  return { observed, pass };
}

/** BullMQ's own count of attempts for a job (whichever explain queue holds it). */
async function bullAttempts(jobId: string): Promise<number | undefined> {
  for (const q of queues) {
    const job = await q.getJob(jobId);
    if (job) return job.attemptsMade;
  }
  return undefined;
}

/** Records an HTTP case as `<status> <error code>` and asserts it, with a message saying something. */
function expectHttp(name: string, expected: string, r: Answer, message?: RegExp): void {
  const body = r.body as { error?: string; message?: string };
  const status = `${r.status} ${body.error ?? ''}`.trim();
  const observed = `${status}: ${body.message ?? ''}`;
  const pass =
    status === expected &&
    typeof body.message === 'string' &&
    (message?.test(body.message) ?? true);
  outcomes.record(name, expected, observed, pass);
  expect(pass, observed).toBe(true);
}

test('the corpus is what its names say (fixture generation has not drifted)', async () => {
  const meta = async (file: string) =>
    sharp(corpus.find((c) => c.file === file)!.bytes, { limitInputPixels: false }).metadata();
  expect((await meta('grey16.tif')).depth).toBe('ushort');
  expect((await meta('grey16.png')).depth).toBe('ushort');
  expect((await meta('cmyk.jpg')).space).toBe('cmyk');
  expect((await meta('animated.gif')).pages).toBe(2);
  expect((await meta('animated.webp')).pages).toBe(2);
  expect((await meta('rgba.png')).channels).toBe(4);
  expect((await meta('grey.png')).channels).toBe(1);
  expect(await meta('bomb.png')).toMatchObject({ width: 50_000, height: 50_000 });
  expect(corpus.length).toBeGreaterThanOrEqual(20);
});

describe('images: one bulk run over the whole corpus', () => {
  let items = new Map<string, ResultItem>();

  beforeAll(async () => {
    const r = await call<{ runId: string }>(`${p.ingest}/v1/runs`, ADMIN, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'data', prefix: 'corpus/' } },
    });
    expect(r.status).toBe(202);
    const status = await waitForRun(p, ADMIN, r.body.runId, 60_000);
    const failures = corpus.filter((c) => c.expected.status === 'failed').length;
    expect(status).toMatchObject({
      status: 'completed',
      total: corpus.length,
      failed: failures,
      completed: corpus.length - failures,
    });
    const list = await runResults(p, ADMIN, r.body.runId);
    items = new Map(list.map((i) => [i.source.key, i]));
  }, 90_000);

  test.each(corpus.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const item = items.get(`corpus/${c.file}`);
    const { observed, pass } = await observe(name, item, c.expected);
    if (c.expected.status === 'completed') {
      expect(observed).toBe(describeExpected(c.expected));
      expect(item?.image).toEqual({ width: c.expected.width, height: c.expected.height });
    } else {
      expect(item?.error?.reason).toBe(c.expected.reason);
      expect(item?.error?.message).toMatch(c.expected.message);
      expect(item?.error?.message).not.toContain('\n');
      expect(item?.attempts).toBe(1);
      expect(await bullAttempts(item?.jobId ?? '')).toBe(1);
    }
    expect(pass).toBe(true);
  });
});

describe('requests', () => {
  const post = (json: unknown, init: RequestInit = {}) =>
    call(`${p.ingest}/v1/runs`, ADMIN, { method: 'POST', json, ...init });
  const run = (extra: Record<string, unknown> = {}) => ({
    model: 'xray@1',
    source: { bucket: 'data', prefix: 'corpus/' },
    ...extra,
  });

  test('malformed JSON: 400 invalid_json', async () => {
    const r = await call(`${p.ingest}/v1/runs`, ADMIN, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "xray@1", "source": {',
    });
    expectHttp('malformed JSON', '400 invalid_json', r, /malformed JSON/);
  });

  test('a body that is not JSON: 415 for XML, 400 for text', async () => {
    const send = (type: string, body: string) =>
      call(`${p.ingest}/v1/runs`, ADMIN, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
    const xml = await send('application/xml', '<run model="xray@1"/>');
    expectHttp('XML body', '415 unsupported_media_type', xml, /application\/json/);
    // Fastify reads text/plain as a string (SNS posts JSON as text/plain): the schema refuses it.
    const text = await send('text/plain', 'model=xray@1');
    expectHttp('text/plain body', '400 validation', text, /body: Expected object, received string/);
  });

  test('unknown fields: 400 naming them', async () => {
    const top = await post(run({ colour: 'red' }));
    expectHttp('unknown top-level field', '400 validation', top, /unknown field "colour"/);
    const nested = await post({ model: 'xray@1', source: { bucket: 'data', region: 'eu' } });
    expectHttp(
      'unknown field in source',
      '400 validation',
      nested,
      /unknown field "source.region"/,
    );
  });

  test('a body over 1 MiB: 413', async () => {
    const keys = Array.from({ length: 1200 }, (_, i) => `k${i}-${'x'.repeat(1000)}`);
    const r = await post(run({ source: { bucket: 'data', keys } }));
    expectHttp('body of 1.2 MB', '413 payload_too_large', r);
  });

  test('unknown model or version: 404 saying how to push it', async () => {
    const model = await post(run({ model: 'nosuch@1' }));
    expectHttp('unknown model', '404 unknown_model', model, /camflow models push/);
    const version = await post(run({ model: 'xray@9' }));
    expectHttp('unknown model version', '404 unknown_model', version, /xray@9/);
  });

  test('unknown layer: 400 with suggestions', async () => {
    const r = await post(run({ layer: 'resnet_block.4' }));
    expectHttp('unknown layer', '400 unknown_layer', r, /resnet_block\.4/);
    expect((r.body as { suggestions?: string[] }).suggestions).toContain('resnet_blocks.4');
  });

  test('invalid targets: 400', async () => {
    const negative = await post(run({ target: -1 }));
    expectHttp('target -1', '400 validation', negative, /target/);
    const text = await post(run({ target: 'first' }));
    expectHttp('target "first"', '400 validation', text, /target/);
  });

  test('a target beyond the model outputs: refused at submission (400), no job queued', async () => {
    const r = await call(`${p.ingest}/v1/jobs`, ADMIN, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'data', key: 'corpus/grey.png' }, target: 3 },
    });
    expectHttp(
      'target 3 of a 1-output model',
      '400 invalid_target',
      r,
      /target 3 is not an output/,
    );
  });

  test('POST /v1/jobs for an object that does not exist: 404', async () => {
    const r = await call(`${p.ingest}/v1/jobs`, ADMIN, {
      method: 'POST',
      json: { model: 'xray@1', source: { bucket: 'data', key: 'corpus/missing.png' } },
    });
    expectHttp('job for a missing object', '404 not_found', r, /corpus\/missing\.png/);
  });

  test('a prefix that lists nothing: the run completes with total 0', async () => {
    const r = await post(run({ source: { bucket: 'data', prefix: 'nothing-here/' } }));
    expect(r.status).toBe(202);
    const s = await waitForRun(p, ADMIN, (r.body as { runId: string }).runId, 30_000);
    const observed = `${s.status}, total ${s.total}`;
    outcomes.record('prefix that lists nothing', 'completed, total 0', observed);
    expect(observed).toBe('completed, total 0');
  });

  test('a bucket that does not exist: the run fails with a reason', async () => {
    const r = await post(run({ source: { bucket: 'no-such-bucket', prefix: 'x/' } }));
    expect(r.status).toBe(202);
    const runId = (r.body as { runId: string }).runId;
    const s = await waitForRun(p, ADMIN, runId, 30_000);
    const detail = await call<{ error?: string }>(`${p.results}/v1/runs/${runId}`, ADMIN);
    const observed = `${s.status}: ${detail.body.error ?? '(no error)'}`;
    const pass = s.status === 'failed' && /no-such-bucket/.test(detail.body.error ?? '');
    outcomes.record('run over a missing bucket', 'failed: error names the bucket', observed, pass);
    expect(pass).toBe(true);
  });

  test('S3 event keys with unicode, spaces and + decode and complete; keys with ../ are skipped', async () => {
    const png = corpus.find((c) => c.file === 'grey.png')!.bytes;
    // AWS URL-encodes notification keys with '+' for a space; a real '+' is %2B.
    const keys: [encoded: string, decoded: string][] = [
      ['ward+3/%C3%A9+%E8%83%B8%E9%83%A8.png', 'ward 3/é 胸部.png'],
      ['scan+1.png', 'scan 1.png'],
      ['x%2By.png', 'x+y.png'],
    ];
    // Keys that break the key policy once decoded: never stored, never explained.
    const unsafe = ['../escape.png', 'a/..%2F..%2Fb.png'];
    const records = [];
    for (const [encoded, key] of keys) {
      await p.svc.store.put('scanner', key, png, 'image/png');
      const head = await p.svc.store.head('scanner', key);
      records.push({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'scanner' }, object: { key: encoded, eTag: head?.etag } },
      });
    }
    for (const encoded of unsafe)
      records.push({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'scanner' }, object: { key: encoded } },
      });
    const r = await call<{ jobs: { jobId: string; key: string }[]; ignored: number }>(
      `${p.ingest}/v1/events/s3`,
      ADMIN,
      { method: 'POST', json: { Records: records } },
    );
    expect(r.status).toBe(202);
    outcomes.record(
      'S3 event keys ../escape.png, a/..%2F..%2Fb.png',
      'skipped (unsafe-key): 2 ignored, no job',
      `${r.body.ignored} ignored, ${r.body.jobs.length - keys.length} extra jobs`,
      r.body.ignored === 2 && r.body.jobs.length === keys.length,
    );
    expect(r.body.ignored).toBe(2);
    expect(r.body.jobs.map((j) => j.key)).toEqual(keys.map(([, k]) => k));
    for (const [i, job] of r.body.jobs.entries()) {
      const item = await waitForJob(p, ADMIN, job.jobId);
      const overlay = item.outputs?.overlayKey ?? '';
      const segments = overlay.split('/');
      const contained =
        overlay.startsWith('explanations/scanner/') &&
        !segments.some((s) => s === '' || s === '.' || s === '..') &&
        (await p.svc.store.head(p.svc.config.CAMFLOW_OUTPUT_BUCKET, overlay)) !== undefined;
      const observed = `${item.status}, key ${JSON.stringify(item.source.key)}, overlay ${overlay}`;
      const pass = item.status === 'completed' && item.source.key === keys[i][1] && contained;
      outcomes.record(
        `S3 event key ${keys[i][0]}`,
        `completed, key ${JSON.stringify(keys[i][1])}, overlay under explanations/scanner/`,
        observed,
        pass,
      );
      expect(pass, observed).toBe(true);
    }
  }, 60_000);

  test('an event key with bad URL encoding: 400', async () => {
    const r = await call(`${p.ingest}/v1/events/s3`, ADMIN, {
      method: 'POST',
      json: {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'scanner' }, object: { key: 'bad%E0%A4%A.png' } },
          },
        ],
      },
    });
    expectHttp('event key with bad URL encoding', '400 validation', r, /bad URL encoding/);
  });
});

describe('models', () => {
  test('a corrupt ONNX file: camflow models push refuses it, nothing is uploaded', async () => {
    const path = join(p.svc.dir, 'corrupt.onnx');
    writeFileSync(path, CORRUPT_ONNX);
    const r = pushModel(p, path, 'corrupt', '1');
    const stored = await p.svc.store.head(
      p.svc.config.CAMFLOW_MODEL_BUCKET,
      modelKeys({ name: 'corrupt', version: '1' }).card,
    );
    const observed = `exit ${r.status}: ${r.stderr.trim()}`;
    const pass = r.status === 2 && /^camflow: .*ONNX/.test(r.stderr) && stored === undefined;
    outcomes.record(
      'push of a corrupt ONNX file',
      'exit 2, a one-line error naming ONNX',
      observed,
      pass,
    );
    expect(pass, observed).toBe(true);
  });

  describe('a corrupt ONNX file forced into the bucket', () => {
    beforeAll(async () => {
      const keys = modelKeys({ name: 'forced', version: '1' });
      const bucket = p.svc.config.CAMFLOW_MODEL_BUCKET;
      await p.svc.store.put(bucket, keys.onnx, CORRUPT_ONNX, 'application/octet-stream');
      const card = { ...seedCardJson, name: 'forced', version: '1' };
      await p.svc.store.put(bucket, keys.card, JSON.stringify(card), 'application/json');
    });

    test('jobs fail permanently: invalid-model', async () => {
      const r = await call<{ jobId: string }>(`${p.ingest}/v1/jobs`, ADMIN, {
        method: 'POST',
        json: { model: 'forced@1', source: { bucket: 'data', key: 'corpus/grey.png' } },
      });
      expect(r.status).toBe(202);
      const item = await waitForJob(p, ADMIN, r.body.jobId);
      const e: Expected = {
        status: 'failed',
        reason: 'invalid-model',
        message: /not an ONNX model/,
      };
      expect((await observe('job on a corrupt ONNX in the bucket', item, e)).pass).toBe(true);
    });

    test('a request naming a layer of it: 422, not a 500', async () => {
      const r = await call(`${p.ingest}/v1/runs`, ADMIN, {
        method: 'POST',
        json: { model: 'forced@1', source: { bucket: 'data', prefix: 'corpus/' }, layer: 'x' },
      });
      expectHttp('run naming a layer of a corrupt model', '422 invalid_model', r, /forced@1/);
    });
  });

  test('an op the engine cannot differentiate (Conv -> Flatten -> TopK): fails naming the op', async () => {
    const path = join(p.svc.dir, 'topk.onnx');
    writeFileSync(path, topkModel());
    await installModel(p, path, 'topk', '1', topkCard);
    const r = await call<{ jobId: string }>(`${p.ingest}/v1/jobs`, ADMIN, {
      method: 'POST',
      json: { model: 'topk@1', source: { bucket: 'data', key: 'corpus/grey.png' } },
    });
    expect(r.status).toBe(202);
    const item = await waitForJob(p, ADMIN, r.body.jobId);
    const e: Expected = { status: 'failed', reason: 'unsupported-op', message: /TopK/ };
    expect((await observe('model with a TopK head', item, e)).pass).toBe(true);
  });
});

describe('afterwards', () => {
  test('no crash: every service still answers /healthz', async () => {
    const health = await p.health();
    const observed = JSON.stringify(health);
    const expected = JSON.stringify({ ingest: 200, results: 200, worker: 200 });
    outcomes.record('services alive after the corpus', expected, observed);
    expect(observed).toBe(expected);
    for (const proc of p.procs) expect(proc.child.exitCode).toBeNull();
  });

  test('no retry storm: every failed job ran once, none waits for a retry', async () => {
    const failed = (await Promise.all(queues.map((q) => q.getFailed(0, 1000)))).flat();
    const delayed = await Promise.all(queues.map((q) => q.getDelayedCount()));
    const retried = failed.filter((j) => j.attemptsMade !== 1).map((j) => j.id);
    const observed = `${failed.length} failed jobs, ${retried.length} with attempts != 1, ${delayed.reduce((a, b) => a + b, 0)} delayed`;
    const pass = failed.length >= 10 && retried.length === 0 && delayed.every((d) => d === 0);
    outcomes.record('no retry storm', 'every failed job: attempts 1; 0 delayed', observed, pass);
    expect(pass, observed).toBe(true);
  });
});
