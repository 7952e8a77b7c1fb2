import { redisKeys, runRecordSchema, tokenId } from '@camflow/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { IngestService } from '../src/index.js';
import { client, type Env, startEnv, startService, TOKENS } from './helpers.js';

let env: Env;
let svc: IngestService;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  env = await startEnv();
  svc = await startService(env, { expansion: false });
  api = client(svc.port);
});
afterAll(async () => {
  await svc?.close();
  await env?.close();
});

const TIME = '2026-03-04T05:06:07.000Z';
const DAY_RUN = 'events-scans-20260304';

/** An AWS S3 event notification record (keys URL-encoded, '+' for spaces). */
function awsRecord(key: string, opts: { eventName?: string; bucket?: string; eTag?: string } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: TIME,
    eventName: opts.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'camflow',
      bucket: { name: opts.bucket ?? 'scans', arn: 'arn:aws:s3:::scans' },
      object: {
        key,
        size: 1024,
        eTag: opts.eTag ?? `0123456789abcdef0123456789abcd${key.length % 100}`,
        sequencer: '0A1B2C3D4E5F678901',
      },
    },
  };
}

/** A MinIO webhook body: the same Records with minio's event names, plus EventName and Key. */
function minioBody(bucket: string, key: string, versionId?: string) {
  const record = awsRecord(key, { eventName: 's3:ObjectCreated:Put', bucket });
  (record.s3.object as Record<string, unknown>).versionId = versionId;
  return { EventName: 's3:ObjectCreated:Put', Key: `${bucket}/${key}`, Records: [record] };
}

async function realtimeKeys(runId: string): Promise<string[]> {
  const jobs = await env.queues.realtime.getJobs(['waiting'], 0, -1);
  return jobs
    .filter((j) => j.data.runId === runId)
    .map((j) => j.data.source.key)
    .sort();
}

describe('POST /v1/events/s3', () => {
  test('AWS format: keys decoded (spaces, unicode, "+"), unsafe ("../"), unmatched and non-create ignored', async () => {
    const body = {
      Records: [
        awsRecord('incoming/my+scan+1.png'),
        awsRecord('incoming/caf%C3%A9%2B1.png'),
        awsRecord('incoming/..%2F..%2Fetc%2Fpasswd'),
        awsRecord('incoming/%E6%97%A5%E6%9C%AC/x%20y.png'),
        awsRecord('elsewhere/a.png'),
        awsRecord('incoming/gone.png', { eventName: 'ObjectRemoved:Delete' }),
        awsRecord('incoming/folder/'),
      ],
    };
    const r = await api.post('/v1/events/s3', body, TOKENS.events);
    expect(r.status).toBe(202);
    expect(r.body.received).toBe(7);
    expect(r.body.ignored).toBe(4);
    const expected = ['incoming/my scan 1.png', 'incoming/café+1.png', 'incoming/日本/x y.png'];
    expect(r.body.jobs.map((j: { key: string }) => j.key).sort()).toEqual([...expected].sort());
    expect(new Set(r.body.jobs.map((j: { runId: string }) => j.runId))).toEqual(new Set([DAY_RUN]));
    expect(await realtimeKeys(DAY_RUN)).toEqual([...expected].sort());

    const job = await env.queues.realtime.getJob(r.body.jobs[0].jobId);
    expect(job?.data).toMatchObject({
      runId: DAY_RUN,
      source: { bucket: 'scans', etag: expect.any(String) },
      settings: { model: 'xray@1', method: 'gradcam', target: 'predicted' },
    });
    const record = runRecordSchema.parse(
      JSON.parse((await env.redis.hget(redisKeys.run(DAY_RUN), 'record'))!),
    );
    expect(record).toMatchObject({
      kind: 'events',
      priority: 'realtime',
      owner: tokenId(TOKENS.events),
      source: { bucket: 'scans', prefix: 'incoming/' },
      listingDone: true,
    });
    expect(await env.redis.zscore(redisKeys.runs, DAY_RUN)).not.toBeNull();
    expect(await env.redis.scard(redisKeys.runJobs(DAY_RUN))).toBe(3);

    // Redelivered: the same job ids, nothing new queued.
    const waiting = await env.queues.realtime.getWaitingCount();
    const again = await api.post('/v1/events/s3', body, TOKENS.events);
    expect(again.status).toBe(202);
    expect(again.body.jobs).toEqual(r.body.jobs);
    expect(await env.queues.realtime.getWaitingCount()).toBe(waiting);
    expect(await env.redis.scard(redisKeys.runJobs(DAY_RUN))).toBe(3);

    const metrics = await api.get('/metrics', TOKENS.admin);
    expect(metrics.body).toMatch(
      /camflow_ingest_events_ignored_total\{reason="no-rule",service="ingest"\} 2/,
    );
    expect(metrics.body).toMatch(
      /camflow_ingest_events_ignored_total\{reason="unsafe-key",service="ingest"\} 2/,
    );
    expect(metrics.body).toMatch(/camflow_ingest_events_received_total\{service="ingest"\} 14/);
  });

  test('MinIO format, token in ?token= or X-Camflow-Token; a second rule has its own run', async () => {
    const waiting = await env.queues.realtime.getWaitingCount();
    const viaQuery = await api.post(
      `/v1/events/s3?token=${TOKENS.events}`,
      minioBody('scans', 'incoming/new+scan.png', 'v1'),
    );
    expect(viaQuery.status).toBe(202);
    expect(viaQuery.body.jobs).toEqual([
      { jobId: expect.any(String), runId: DAY_RUN, bucket: 'scans', key: 'incoming/new scan.png' },
    ]);
    const viaHeader = await api.post(
      '/v1/events/s3',
      minioBody('scans', 'ward%2F7/p+1.dcm'),
      undefined,
      {
        headers: { 'x-camflow-token': TOKENS.events },
      },
    );
    expect(viaHeader.status).toBe(202);
    const [dicom] = viaHeader.body.jobs;
    expect(dicom).toMatchObject({ runId: `${DAY_RUN}-r2`, key: 'ward/7/p 1.dcm' });
    const job = await env.queues.realtime.getJob(dicom.jobId);
    expect(job?.data.settings.method).toBe('layercam');
    expect(await env.queues.realtime.getWaitingCount()).toBe(waiting + 2);

    // Duplicate notification (MinIO retries): still one job.
    await api.post(
      `/v1/events/s3?token=${TOKENS.events}`,
      minioBody('scans', 'incoming/new+scan.png', 'v1'),
    );
    expect(await env.queues.realtime.getWaitingCount()).toBe(waiting + 2);
  });

  test('auth and malformed bodies', async () => {
    const body = { Records: [awsRecord('incoming/a.png')] };
    expect((await api.post('/v1/events/s3', body)).status).toBe(401);
    expect((await api.post('/v1/events/s3?token=wrong-token-0123456789', body)).status).toBe(401);
    expect((await api.post('/v1/events/s3', body, TOKENS.writer)).status).toBe(403);
    const other = await api.post(
      '/v1/events/s3',
      { Records: [awsRecord('incoming/a.png', { bucket: 'private' })] },
      TOKENS.events,
    );
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/private/);

    const noS3 = await api.post(
      '/v1/events/s3',
      { Records: [{ eventName: 'ObjectCreated:Put' }] },
      TOKENS.events,
    );
    expect(noS3.status).toBe(400);
    expect(noS3.body.message).toMatch(/^Records\.0\.s3: /);
    const badKey = await api.post(
      '/v1/events/s3',
      { Records: [awsRecord('incoming/%E0%A4%A.png')] },
      TOKENS.events,
    );
    expect(badKey.status).toBe(400);
    expect(badKey.body.message).toMatch(/bad URL encoding/);
    // AWS's test event on subscription: nothing to do, acknowledged.
    const probe = await api.post(
      '/v1/events/s3',
      { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'scans' },
      TOKENS.events,
    );
    expect(probe.status).toBe(202);
    expect(probe.body).toEqual({ received: 0, jobs: [], ignored: 0 });
  });
});
