// Figures per split of a folder-labelled run: counted as events are indexed (duplicates and late
// redeliveries change nothing, a retried job moves from failed to completed), shown in the run
// status, filtered with ?split= and drawn in the report. Real redis-server; the results API
// in-process.
import { redisKeys } from '@camflow/contracts';
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
  publish,
  seedRun,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

const logger = createLogger('results-test', 'silent');
let services: TestServices;
let redis: Redis;
let api: ResultsService;

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, { port: 0, logger, indexer: { blockMs: 200 } });
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

const LAYOUT = {
  images: 6,
  classes: { NORMAL: 0, PNEUMONIA: 1 },
  splits: [
    { split: 'test', path: 'cx/test', images: 3, classes: { NORMAL: 1, PNEUMONIA: 2 } },
    { split: 'train', path: 'cx/train', images: 3, classes: { NORMAL: 2, PNEUMONIA: 1 } },
  ],
  unknownFolders: [],
  notImages: { count: 1, examples: ['cx/notes <b>.txt'] },
  unsafeKeys: { count: 0, examples: [] },
  mixedExtensions: [],
  emptySplits: [{ split: 'val', path: 'cx/val' }],
  missingClasses: [],
  warnings: [
    '1 file not an image, skipped, e.g. cx/notes <b>.txt',
    'empty split "val" (cx/val/): no images',
  ],
};

describe('per-split figures', () => {
  it('status, ?split= and the report show each split; duplicates and retries count once', async () => {
    const runId = 'r-splits';
    await seedRun(redis, {
      runId,
      labels: { from: 'folder', classes: { NORMAL: 0, PNEUMONIA: 1 } },
    });
    await redis.hset(redisKeys.run(runId), 'layout', JSON.stringify(LAYOUT));
    const ids = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'];
    await addJobs(redis, runId, ids);
    const t = Date.now() - 10_000;
    const ev = (jobId: string, split: string, label: number, score: number, dt: number) => ({
      ...completed({ jobId, runId, label, score, finishedAt: t + dt }),
      split,
    });
    // train: 2 NORMAL (one predicted positive), 1 PNEUMONIA right.
    await publish(redis, ev('a1', 'train', 0, 0.1, 1));
    await publish(redis, ev('a2', 'train', 0, 0.9, 2));
    await publish(redis, ev('a3', 'train', 1, 0.8, 3));
    // test: one NORMAL right, one PNEUMONIA right, one PNEUMONIA failed first then retried.
    await publish(redis, ev('b1', 'test', 0, 0.2, 4));
    await publish(redis, ev('b2', 'test', 1, 0.7, 5));
    await publish(redis, {
      ...failed({ jobId: 'b3', runId, finishedAt: t + 6 }),
      split: 'test',
      label: 1,
    });
    await publish(redis, ev('a3', 'train', 1, 0.8, 3)); // a duplicate
    const status = async () => (await get(api.port, `/v1/runs/${runId}`, TOKENS.owner)).body;
    await waitFor(async () => (await status()).failed === 1 && (await status()).completed === 5);
    let s = await status();
    expect(s.splits).toEqual([
      {
        split: 'train',
        images: 3,
        completed: 3,
        failed: 0,
        labelled: 3,
        correct: 2,
        accuracy: 2 / 3,
        confusion: [
          [1, 1],
          [0, 1],
        ],
        // The folders name the classes (the model's own names: 'negative', 'positive').
        classes: ['NORMAL', 'PNEUMONIA'],
      },
      expect.objectContaining({
        split: 'test',
        images: 3,
        completed: 2,
        failed: 1,
        labelled: 2,
        accuracy: 1,
      }),
    ]);
    expect(s.layout.emptySplits).toEqual([{ split: 'val', path: 'cx/val' }]);

    // The retry succeeds (a later finishedAt), a stale redelivery of the failure comes after it.
    await publish(redis, ev('b3', 'test', 1, 0.3, 7));
    await publish(redis, {
      ...failed({ jobId: 'b3', runId, finishedAt: t + 6 }),
      split: 'test',
      label: 1,
    });
    await waitFor(async () => (await status()).completed === 6);
    s = await status();
    expect(s.splits[1]).toMatchObject({
      split: 'test',
      completed: 3,
      failed: 0,
      labelled: 3,
      correct: 2,
    });
    expect(s.splits[1].confusion).toEqual([
      [1, 0],
      [1, 1],
    ]);

    const page = await get(api.port, `/v1/runs/${runId}/results?split=test`, TOKENS.owner);
    expect(page.body.items.map((i: { jobId: string }) => i.jobId).sort()).toEqual([
      'b1',
      'b2',
      'b3',
    ]);
    expect(page.body.items.every((i: { split: string }) => i.split === 'test')).toBe(true);

    const report = await get(api.port, `/v1/runs/${runId}/report`, TOKENS.owner);
    expect(report.status).toBe(200);
    const html = report.text;
    const section = html.slice(html.indexOf('<h2>Per split</h2>'));
    expect(section).toMatch(
      /<td class="k">train<\/td><td>3<\/td><td>3<\/td><td>0<\/td><td>3<\/td><td><b>0\.667<\/b>/,
    );
    expect(section).toMatch(
      /<td class="k">test<\/td><td>3<\/td><td>3<\/td><td>0<\/td><td>3<\/td><td><b>0\.667<\/b>/,
    );
    expect(section).toContain('empty split &quot;val&quot; (cx/val/): no images');
    // Keys in the warnings are escaped.
    expect(section).toContain('cx/notes &lt;b&gt;.txt');
    expect(section).not.toContain('notes <b>');
  });

  it("a job shared with another run is counted there with that run's own split", async () => {
    await seedRun(redis, { runId: 'r-first' });
    await seedRun(redis, { runId: 'r-second' });
    await addJobs(redis, 'r-first', ['shared']);
    await addJobs(redis, 'r-second', ['shared']);
    const t = Date.now() - 5000;
    await publish(redis, {
      ...failed({ jobId: 'shared', runId: 'r-first', finishedAt: t }),
      split: 'val',
      label: 0,
    });
    // The second run's reuse of that result, as ingest re-publishes it, with its own split.
    await publish(redis, {
      ...failed({ jobId: 'shared', runId: 'r-second', finishedAt: t }),
      split: 'holdout',
      label: 0,
    });
    const split = async (runId: string) =>
      (await get(api.port, `/v1/runs/${runId}`, TOKENS.owner)).body.splits as
        | { split: string; failed: number; completed: number }[]
        | undefined;
    await waitFor(async () => (await split('r-second'))?.[0]?.failed === 1);
    // A retry (for the first run) completes the job: both runs move it, each in its own split.
    await publish(redis, {
      ...completed({
        jobId: 'shared',
        runId: 'r-first',
        label: 0,
        score: 0.1,
        finishedAt: t + 1000,
      }),
      split: 'val',
    });
    await waitFor(async () => (await split('r-second'))?.[0]?.completed === 1);
    expect(await split('r-first')).toMatchObject([{ split: 'val', completed: 1, failed: 0 }]);
    expect(await split('r-second')).toMatchObject([{ split: 'holdout', completed: 1, failed: 0 }]);
  });
});
