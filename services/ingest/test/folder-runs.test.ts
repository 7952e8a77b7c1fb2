// Runs with labels from folder names over an S3 prefix (no local folder): real Redis and s3rver.
// The expansion surveys the prefix first, stores the layout with the run, then queues each image
// with its label and split; folders that name no class fail the run before anything is queued.
import { type ExplainJob, redisKeys } from '@camflow/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getRun, type IngestService, type StoredLayout } from '../src/index.js';
import { client, type Env, startEnv, startService, TOKENS, waitFor } from './helpers.js';

let env: Env;
let svc: IngestService;

beforeAll(async () => {
  env = await startEnv();
  svc = await startService(env);
  const put = (key: string, body = key) => env.ts.store.put('data', key, body, 'image/jpeg');
  // The real archive's shape: a nested copy, macOS debris, a stray text file, mixed extensions.
  for (const split of ['train', 'test'])
    for (const cls of ['NORMAL', 'PNEUMONIA'])
      for (let i = 0; i < 3; i++) await put(`cx/chest_xray/${split}/${cls}/${cls[0]}${i}.jpeg`);
  await put('cx/chest_xray/test/PNEUMONIA/extra.png');
  await put('cx/chest_xray/val/', '');
  await put('cx/__MACOSX/chest_xray/test/NORMAL/._N0.jpeg');
  await put('cx/chest_xray/README.txt');
  for (let i = 0; i < 2; i++) await put(`odd/test/NORMAL/n${i}.jpeg`);
  for (let i = 0; i < 2; i++) await put(`odd/test/PNEUMONIA/p${i}.jpeg`);
  await put('odd/test/normal_old/x.jpeg');
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await env?.close();
});

function submit(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return client(svc.port).post('/v1/runs', { model: 'xray@1', ...body }, TOKENS.writer, {
    headers,
  });
}

async function listed(runId: string) {
  return waitFor(
    async () => {
      const run = await getRun(env.redis, runId);
      return run?.record.listingDone ? run : undefined;
    },
    30_000,
    `run ${runId} listed`,
  );
}

async function runJobs(runId: string): Promise<ExplainJob[]> {
  const jobs = await env.queues.bulk.getJobs(['waiting', 'prioritized'], 0, -1);
  return jobs.map((j) => j.data).filter((d) => d.runId === runId);
}

const layoutOf = async (runId: string) =>
  JSON.parse((await env.redis.hget(redisKeys.run(runId), 'layout')) ?? 'null') as StoredLayout;

describe('labels from folder names', () => {
  test('a prefix with nested folders: each image queued with its class index and split', async () => {
    const r = await submit({
      source: { bucket: 'data', prefix: 'cx/' },
      labels: { from: 'folder', classes: { NORMAL: 0, PNEUMONIA: 1 } },
    });
    expect(r.status).toBe(202);
    const run = await listed(r.body.runId);
    expect(run.record.error).toBeUndefined();
    expect(run.record.labels?.classes).toEqual({ NORMAL: 0, PNEUMONIA: 1 });
    const jobs = await runJobs(r.body.runId);
    expect(jobs).toHaveLength(13);
    const byKey = new Map(jobs.map((j) => [j.source.key, j]));
    expect(byKey.get('cx/chest_xray/train/NORMAL/N1.jpeg')).toMatchObject({
      label: 0,
      split: 'train',
    });
    expect(byKey.get('cx/chest_xray/test/PNEUMONIA/extra.png')).toMatchObject({
      label: 1,
      split: 'test',
    });
    expect(jobs.filter((j) => j.split === 'test')).toHaveLength(7);
    // Debris and the text file are skipped and counted, never queued.
    expect(byKey.has('cx/__MACOSX/chest_xray/test/NORMAL/._N0.jpeg')).toBe(false);
    expect(Number(await env.redis.hget(redisKeys.run(r.body.runId), 'invalid'))).toBe(2);
    const layout = await layoutOf(r.body.runId);
    expect(layout.splits.map((s) => [s.split, s.images, s.classes])).toEqual([
      ['test', 7, { NORMAL: 3, PNEUMONIA: 4 }],
      ['train', 6, { NORMAL: 3, PNEUMONIA: 3 }],
    ]);
    expect(layout.notImages).toEqual({
      count: 2,
      examples: ['cx/__MACOSX/chest_xray/test/NORMAL/._N0.jpeg', 'cx/chest_xray/README.txt'],
    });
    expect(layout.emptySplits).toEqual([{ split: 'val', path: 'cx/chest_xray/val' }]);
    expect(layout.mixedExtensions.map((e) => [e.extension, e.count])).toEqual([
      ['.jpeg', 12],
      ['.png', 1],
    ]);
    expect(layout.warnings.join('\n')).toMatch(/empty split "val"/);
  });

  test('a folder that maps to no class fails the run, naming it, before anything is queued', async () => {
    // The seed card has one output, "pneumonia": its negatives' folder is never guessed.
    const r = await submit({
      source: { bucket: 'data', prefix: 'odd/' },
      labels: { from: 'folder' },
    });
    expect(r.status).toBe(202);
    const run = await listed(r.body.runId);
    expect(run.record.error).toMatch(
      /^s3:\/\/data\/odd\/: 3 images in folders that name no class \(classes: pneumonia=1\): "NORMAL" \(2 images, e\.g\. odd\/test\/NORMAL\/n0\.jpeg, odd\/test\/NORMAL\/n1\.jpeg\); "normal_old" \(1 image, e\.g\. odd\/test\/normal_old\/x\.jpeg\); xray@1 has one output, "pneumonia" \(class 1\)/,
    );
    expect(await runJobs(r.body.runId)).toHaveLength(0);
    expect((await layoutOf(r.body.runId)).unknownFolders).toHaveLength(2);
    // Mapping NORMAL is not enough: normal_old still names no class.
    const again = await submit({
      source: { bucket: 'data', prefix: 'odd/' },
      labels: { from: 'folder', classes: { NORMAL: 0, pneumonia: 1 } },
    });
    expect((await listed(again.body.runId)).record.error).toMatch(
      /1 image in folders.*"normal_old"/,
    );
  });

  test('requests that cannot work are refused at once', async () => {
    const manifest = await submit({
      source: { bucket: 'data', manifest: 'x.csv' },
      labels: { from: 'folder' },
    });
    expect(manifest.status).toBe(400);
    expect(manifest.body.message).toMatch(/a manifest brings its own labels/);
    const range = await submit({
      source: { bucket: 'data', prefix: 'cx/' },
      labels: { from: 'folder', classes: { NORMAL: 0, PNEUMONIA: 3 } },
    });
    expect(range.status).toBe(400);
    expect(range.body.message).toMatch(/PNEUMONIA=3 out of range: xray@1 has one output/);
  });

  test('an Idempotency-Key answers the same run for the same request, 409 for another', async () => {
    const body = {
      source: { bucket: 'data', prefix: 'cx/chest_xray/test/' },
      labels: { from: 'folder', classes: { NORMAL: 0, PNEUMONIA: 1 } },
      target: 0,
    };
    const key = { 'idempotency-key': 'cli-test-split-0001' };
    const first = await submit(body, key);
    expect(first.status).toBe(202);
    const second = await submit(body, key);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ runId: first.body.runId, existing: true });
    await listed(first.body.runId);
    expect(await runJobs(first.body.runId)).toHaveLength(7);
    const other = await submit({ ...body, target: 'predicted' }, key);
    expect(other.status).toBe(409);
    const bad = await submit(body, { 'idempotency-key': 'no spaces here' });
    expect(bad.status).toBe(400);
  });
});
