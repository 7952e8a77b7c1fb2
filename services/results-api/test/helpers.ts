// Test support: seeds Redis the way ingest does and publishes events the way the worker does.

import * as zlib from 'node:zlib';
import { deflateSync } from 'node:zlib';
import {
  type CompactCam,
  type CompletedEvent,
  EVENT_FIELD,
  EVENTS_STREAM,
  type FailedEvent,
  type Finding,
  outputKeys,
  type RunRecord,
  redisKeys,
  tokenId,
} from '@camflow/contracts';
import type { Redis } from 'ioredis';

/** Tokens of the tests' principals (CAMFLOW_API_TOKENS is built from them). */
export const TOKENS = {
  owner: 'owner-token-000000000001',
  other: 'other-token-000000000002',
  admin: 'admin-token-000000000003',
  writer: 'writer-token-00000000004',
  hospital: 'hospital-token-000000005',
  elsewhere: 'elsewhere-token-00000006',
};

export const TOKENS_ENV = JSON.stringify({
  [TOKENS.owner]: { scopes: ['runs:write', 'results:read'] },
  [TOKENS.other]: { scopes: ['runs:write', 'results:read'] },
  [TOKENS.admin]: { scopes: ['admin'] },
  [TOKENS.writer]: { scopes: ['runs:write'] },
  [TOKENS.hospital]: { scopes: ['results:read'], buckets: ['scans'] },
  [TOKENS.elsewhere]: { scopes: ['results:read'], buckets: ['elsewhere'] },
});

export const OUTPUT_BUCKET = 'camflow-outputs';

/** Writes a run as ingest does: the hash's JSON record, and the runs index. */
export async function seedRun(
  redis: Redis,
  r: Partial<RunRecord> & { runId: string },
): Promise<RunRecord> {
  const record: RunRecord = {
    kind: 'run',
    model: 'xray@1',
    method: 'gradcam',
    target: 'predicted',
    priority: 'bulk',
    source: { bucket: 'data', prefix: 'chest/' },
    owner: tokenId(TOKENS.owner),
    createdAt: Date.now() - 60_000,
    listingDone: true,
    ...r,
  };
  await redis.hset(redisKeys.run(r.runId), 'record', JSON.stringify(record));
  await redis.zadd(redisKeys.runs, record.createdAt, r.runId);
  return record;
}

/** Adds jobs to a run as ingest does (both directions of the membership). */
export async function addJobs(redis: Redis, runId: string, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await redis.sadd(redisKeys.runJobs(runId), ...jobIds);
  for (const j of jobIds) await redis.sadd(redisKeys.jobRuns(j), runId);
}

/** A valid job.completed event (score = the single sigmoid output). */
export function completed(o: {
  jobId: string;
  runId: string;
  key?: string;
  finishedAt?: number;
  score?: number;
  borderEnergy?: number;
  peak?: { x: number; y: number };
  label?: number | string;
  sourceBucket?: string;
  /** The hottest cell of an 8x8 CAM over a 256x256 input (the audit's view of the image). */
  camCell?: [number, number];
}): CompletedEvent {
  const key = o.key ?? `chest/${o.jobId}.png`;
  const bucket = o.sourceBucket ?? 'data';
  const score = o.score ?? 0.8;
  return {
    type: 'job.completed',
    jobId: o.jobId,
    runId: o.runId,
    source: { bucket, key },
    model: 'xray@1',
    layer: 'features.4',
    method: 'gradcam',
    target: 'predicted',
    ...(o.label !== undefined ? { label: o.label } : {}),
    submittedAt: (o.finishedAt ?? Date.now()) - 500,
    finishedAt: o.finishedAt ?? Date.now(),
    attempts: 1,
    prediction: { target: 0, scores: [score], predicted: score >= 0.5 ? 1 : 0 },
    outputs: outputKeys(bucket, key, o.jobId),
    stats: {
      peak: o.peak ?? { x: 0.5, y: 0.5 },
      entropy: 0.7,
      borderEnergy: o.borderEnergy ?? 0.1,
    },
    bucket: OUTPUT_BUCKET,
    image: { width: 4, height: 4 },
    timings: { fetch: 3, engine: 20 },
    ...(o.camCell && { compactCam: camAt(o.camCell) }),
  };
}

function camAt([x, y]: [number, number]): CompactCam {
  const data = new Uint8Array(64).fill(10);
  data[y * 8 + x] = 255;
  return {
    width: 8,
    height: 8,
    data: Buffer.from(data).toString('base64'),
    input: { width: 256, height: 256 },
  };
}

/** Stores a finished audit of a run with these findings (what the worker's finalize job writes). */
export async function storeAudit(
  redis: Redis,
  runId: string,
  findings: Partial<Finding>[],
): Promise<void> {
  const doc = {
    model: 'xray@1',
    images: 0,
    verdict: findings.length ? 'shortcut-suspected' : 'no-finding',
    findings: findings.map((f) => ({
      class: 1,
      className: 'pneumonia',
      imageShare: 0.5,
      heatShare: 0.4,
      occlusion: { flipRate: 0.5, scoreDrop: 0.3, controlFlipRate: 0, controlScoreDrop: 0 },
      examples: [],
      box: { x: 0, y: 0, width: 0.25, height: 0.25 },
      place: 'top-left corner',
      ...f,
    })),
    atlas: { width: 1, height: 1, data: [0] },
    faithfulness: {},
    summary: 'Shortcut suspected: a test audit.',
  };
  await redis.hset(redisKeys.audit(runId), 'status', 'done', 'doc', JSON.stringify(doc));
}

/** A valid job.failed event. */
export function failed(o: {
  jobId: string;
  runId: string;
  key?: string;
  finishedAt?: number;
  reason?: string;
}): FailedEvent {
  const finishedAt = o.finishedAt ?? Date.now();
  return {
    type: 'job.failed',
    jobId: o.jobId,
    runId: o.runId,
    source: { bucket: 'data', key: o.key ?? `chest/${o.jobId}.png` },
    model: 'xray@1',
    method: 'gradcam',
    target: 'predicted',
    submittedAt: finishedAt - 500,
    finishedAt,
    attempts: 1,
    error: { reason: o.reason ?? 'decode', message: 'not an image' },
  };
}

/** XADDs an event as the worker does (or any raw field value, for malformed entries). */
export async function publish(redis: Redis, event: CompletedEvent | FailedEvent | string) {
  const value = typeof event === 'string' ? event : JSON.stringify(event);
  return redis.xadd(EVENTS_STREAM, 'MAXLEN', '~', 100000, '*', EVENT_FIELD, value);
}

/** A small real RGBA PNG of one colour. */
export function png(width = 4, height = 4, rgba = [200, 30, 30, 255]): Buffer {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(rgba, y * (width * 4 + 1) + 1 + x * 4);
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Polls until `check` returns a truthy value (or throws its last error on timeout). */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last ?? new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GETs a path of the API with a bearer token; JSON bodies are parsed. */
export async function get(port: number, path: string, token?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  // biome-ignore lint/suspicious/noExplicitAny: test convenience over many response shapes
  return { status: res.status, headers: res.headers, body: body as any, text };
}
