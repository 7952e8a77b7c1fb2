import { explainJobId, modelKeys, redisKeys, runRecordSchema, tokenId } from '@camflow/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { IngestService } from '../src/index.js';
import { client, type Env, startEnv, startService, TOKENS } from './helpers.js';

let env: Env;
let svc: IngestService;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  env = await startEnv();
  // HTTP only: expansion jobs stay queued where the tests can look at them.
  svc = await startService(env, { expansion: false });
  api = client(svc.port);
  await env.ts.store.put('data', 'scans/one.png', 'not really a png', 'image/png');
});
afterAll(async () => {
  await svc?.close();
  await svc?.close(); // idempotent
  await env?.close();
});

const run = { model: 'xray@1', source: { bucket: 'data', prefix: 'scans/' } };

describe('auth', () => {
  test('healthz needs no token; readyz and metrics need one', async () => {
    expect((await api.get('/healthz')).status).toBe(200);
    expect((await api.get('/readyz')).status).toBe(401);
    const ready = await api.get('/readyz', TOKENS.reader);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ redis: 'ok', s3: 'ok' });
  });

  test('401 without or with a wrong token, 403 without the scope or the bucket', async () => {
    const none = await api.post('/v1/runs', run);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('unauthorized');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await api.post('/v1/runs', run, 'not-a-token-at-all-xxxx')).status).toBe(401);
    // The alternative token places are for the events route only.
    const viaQuery = await api.post(`/v1/runs?token=${TOKENS.writer}`, run);
    expect(viaQuery.status).toBe(401);

    const scope = await api.post('/v1/runs', run, TOKENS.reader);
    expect(scope.status).toBe(403);
    expect(scope.body.message).toMatch(/runs:write/);
    const bucket = await api.post(
      '/v1/runs',
      { ...run, source: { bucket: 'elsewhere', prefix: '' } },
      TOKENS.writer,
    );
    expect(bucket.status).toBe(403);
    expect(bucket.body.message).toMatch(/elsewhere/);
    expect((await api.post('/v1/runs', run, TOKENS.events)).status).toBe(403);
  });
});

describe('validation', () => {
  test('malformed JSON, unknown field, bad model ref, two sources', async () => {
    const bad = await api.post('/v1/runs', undefined, TOKENS.writer, {
      raw: '{"model": "xray@1",',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_json');

    const unknown = await api.post('/v1/runs', { ...run, colour: 'red' }, TOKENS.writer);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'validation' });
    expect(unknown.body.message).toContain('"colour"');
    const nested = await api.post(
      '/v1/runs',
      { ...run, source: { ...run.source, recursive: true } },
      TOKENS.writer,
    );
    expect(nested.body.message).toContain('"source.recursive"');

    const ref = await api.post('/v1/runs', { ...run, model: 'xray' }, TOKENS.writer);
    expect(ref.status).toBe(400);
    expect(ref.body.message).toMatch(/^model: /);
    expect(ref.body.issues[0].path).toBe('model');

    const two = await api.post(
      '/v1/runs',
      { ...run, source: { bucket: 'data', prefix: 'a/', manifest: 'm.csv' } },
      TOKENS.writer,
    );
    expect(two.status).toBe(400);
    expect(two.body.message).toMatch(/one of prefix, keys or manifest/);

    const method = await api.post('/v1/runs', { ...run, method: 'magic' }, TOKENS.writer);
    expect(method.body.message).toMatch(/^method: /);
  });

  test('unknown model 404, unknown layer 400 with close matches, known layer 202', async () => {
    const model = await api.post('/v1/runs', { ...run, model: 'nope@1' }, TOKENS.writer);
    expect(model.status).toBe(404);
    expect(model.body.error).toBe('unknown_model');
    expect(model.body.message).toMatch(/unknown model nope@1/);

    const layer = await api.post('/v1/runs', { ...run, layer: 'resnet_block.4' }, TOKENS.writer);
    expect(layer.status).toBe(400);
    expect(layer.body.error).toBe('unknown_layer');
    expect(layer.body.suggestions).toContain('resnet_blocks.4');

    const ok = await api.post('/v1/runs', { ...run, layer: 'resnet_blocks.4' }, TOKENS.writer);
    expect(ok.status).toBe(202);
  });

  test('a layer of a model whose ONNX file is not ONNX (put by hand): 422, not 500', async () => {
    const keys = modelKeys({ name: 'broken', version: '1' });
    const bucket = env.ts.config.CAMFLOW_MODEL_BUCKET;
    await env.ts.store.put(bucket, keys.onnx, 'not a protobuf at all', 'application/octet-stream');
    await env.ts.store.put(
      bucket,
      keys.card,
      JSON.stringify({ name: 'broken' }),
      'application/json',
    );
    const r = await api.post('/v1/runs', { ...run, model: 'broken@1', layer: 'x' }, TOKENS.writer);
    expect(r.status).toBe(422);
    expect(r.body.error).toBe('invalid_model');
    expect(r.body.message).toMatch(/^broken@1: not an ONNX model/);
  });

  test('body limit, wrong content type, unknown route', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `${'k'.repeat(120)}${i}`);
    const big = await api.post(
      '/v1/runs',
      { ...run, source: { bucket: 'data', keys } },
      TOKENS.writer,
    );
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const text = await api.post('/v1/runs', undefined, TOKENS.writer, {
      raw: 'model=xray@1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.status).toBe(415);
    const missing = await api.get('/v1/nothing', TOKENS.writer);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
  });
});

describe('POST /v1/runs and /v1/jobs', () => {
  test('a run is recorded, indexed and its expansion queued; 202 at once', async () => {
    const r = await api.post(
      '/v1/runs',
      { ...run, method: 'gradcam++', target: 0, align: 'receptive-field', priority: 'realtime' },
      TOKENS.writer,
    );
    expect(r.status).toBe(202);
    const { runId } = r.body;
    expect(runId).toMatch(/^run-[a-z0-9]+-[0-9a-f]{12}$/);
    const record = runRecordSchema.parse(
      JSON.parse((await env.redis.hget(redisKeys.run(runId), 'record'))!),
    );
    expect(record).toMatchObject({
      kind: 'run',
      owner: tokenId(TOKENS.writer),
      method: 'gradcam++',
      target: 0,
      align: 'receptive-field',
      priority: 'realtime',
      listingDone: false,
      source: { bucket: 'data', prefix: 'scans/' },
    });
    expect(await env.redis.zscore(redisKeys.runs, runId)).toBe(String(record.createdAt));
    const job = await env.queues.runs.getJob(runId);
    expect(job?.name).toBe('expand-run');
    expect(job?.data).toEqual({ runId });
    expect(job?.opts.attempts).toBe(10);
  });

  test('targets by class name become indices on the job (and in its id); unknown names: 400', async () => {
    const r = await api.post(
      '/v1/jobs',
      {
        model: 'xray@1',
        source: { bucket: 'data', key: 'scans/one.png' },
        targets: ['PNEUMONIA', 0],
      },
      TOKENS.writer,
    );
    expect(r.status).toBe(202);
    const job = await env.queues.realtime.getJob(r.body.jobId);
    expect(job?.data.settings.targets).toEqual([0, 0]);
    // The targets are part of the job id: the same image without them is another job.
    expect(r.body.jobId).not.toBe(
      explainJobId(job!.data.source, { ...job!.data.settings, targets: undefined }),
    );

    const ran = await api.post('/v1/runs', { ...run, targets: ['pneumonia'] }, TOKENS.writer);
    expect(ran.status).toBe(202);
    const record = runRecordSchema.parse(
      JSON.parse((await env.redis.hget(redisKeys.run(ran.body.runId), 'record'))!),
    );
    expect(record.targets).toEqual([0]);

    const bad = await api.post('/v1/runs', { ...run, targets: ['cat'] }, TOKENS.writer);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_target');
    expect(bad.body.message).toMatch(/target "cat" is not an output of xray@1 \(1 output: /);
  });

  test('one image: a job run on the realtime queue; 404 for a missing object', async () => {
    const r = await api.post(
      '/v1/jobs',
      { model: 'xray@1', source: { bucket: 'data', key: 'scans/one.png' } },
      TOKENS.writer,
    );
    expect(r.status).toBe(202);
    const { runId, jobId } = r.body;
    const job = await env.queues.realtime.getJob(jobId);
    expect(job?.data).toMatchObject({
      runId,
      source: {
        bucket: 'data',
        key: 'scans/one.png',
        etag: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
      settings: { model: 'xray@1', method: 'gradcam', target: 'predicted' },
    });
    expect(await env.redis.sismember(redisKeys.runJobs(runId), jobId)).toBe(1);
    expect(await env.redis.smembers(redisKeys.jobRuns(jobId))).toEqual([runId]);
    const record = JSON.parse((await env.redis.hget(redisKeys.run(runId), 'record'))!);
    expect(record).toMatchObject({ kind: 'job', listingDone: true, priority: 'realtime' });

    const missing = await api.post(
      '/v1/jobs',
      { model: 'xray@1', source: { bucket: 'data', key: 'scans/none.png' } },
      TOKENS.writer,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');

    // A drawing override is part of what is computed: its own job id, carried to the worker.
    const aligned = await api.post(
      '/v1/jobs',
      {
        model: 'xray@1',
        source: { bucket: 'data', key: 'scans/one.png' },
        align: 'receptive-field',
      },
      TOKENS.writer,
    );
    expect(aligned.status).toBe(202);
    expect(aligned.body.jobId).not.toBe(jobId);
    const alignedJob = await env.queues.realtime.getJob(aligned.body.jobId);
    expect(alignedJob?.data.settings).toMatchObject({ model: 'xray@1', align: 'receptive-field' });
    const bad = await api.post(
      '/v1/jobs',
      { model: 'xray@1', source: { bucket: 'data', key: 'scans/one.png' }, align: 'centre' },
      TOKENS.writer,
    );
    expect(bad.status).toBe(400);
  });

  test('metrics count what was created', async () => {
    const m = await api.get('/metrics', TOKENS.reader);
    expect(m.status).toBe(200);
    expect(m.body).toMatch(
      /camflow_ingest_runs_created_total\{kind="run",service="ingest"\} [1-9]/,
    );
    expect(m.body).toMatch(/camflow_ingest_jobs_enqueued_total\{queue="camflow-realtime"/);
  });
});

describe('rate limit', () => {
  test('a token over its budget gets 429 with Retry-After; others are unaffected', async () => {
    const limited = await startService(env, {
      expansion: false,
      rateLimit: { max: 2, windowMs: 60_000 },
    });
    try {
      const c = client(limited.port);
      const body = { model: 'nope@1', source: { bucket: 'data', prefix: '' } };
      expect((await c.post('/v1/runs', body, TOKENS.writer)).status).toBe(404);
      expect((await c.post('/v1/runs', body, TOKENS.writer)).status).toBe(404);
      const third = await c.post('/v1/runs', body, TOKENS.writer);
      expect(third.status).toBe(429);
      expect(third.body.error).toBe('rate_limited');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await c.post('/v1/runs', body, TOKENS.admin)).status).toBe(404);
    } finally {
      await limited.close();
    }
  });
});
