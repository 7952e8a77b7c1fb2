// Per-label and one-vs-rest figures against the values computed independently in Python
// (test/reference/camflow_ref/byom.py: pairwise AUC, plain counts) on the same scores, label
// sets and thresholds, committed in test/fixtures/byom/expected.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompletedEvent } from '@camflow/contracts';
import { parseCard, predictedClass, predictedLabels } from '@camflow/imaging';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import { labelFigures, rocAuc } from '../src/store/label-figures.js';
import { loadRun, runStatus } from '../src/store/queries.js';
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

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'byom/expected.json'), 'utf8'));
const card = (name: string) =>
  parseCard(readFileSync(join(FIXTURES, 'models', name, 'model.json'), 'utf8'));

/** The manifest as camflow reads it: `key,labels` with `|`-separated names. */
function manifestSets(): Map<string, string[]> {
  const lines = readFileSync(join(FIXTURES, 'byom/multilabel.csv'), 'utf8').trim().split('\n');
  return new Map(
    lines.slice(1).map((l) => {
      const [key, cell = ''] = l.split(',');
      return [key, cell.split('|').filter((s) => s !== '')];
    }),
  );
}

function event(i: number, scores: number[], extra: Partial<CompletedEvent>): CompletedEvent {
  const e = completed({ jobId: `j${i}`, runId: 'r' });
  return { ...e, ...extra, prediction: { ...e.prediction, ...extra.prediction, scores } };
}

const close = (a: number | null, b: number | null) => {
  if (b === null) expect(a).toBeNull();
  else expect(Math.abs((a as number) - b)).toBeLessThan(1e-12);
};

describe('per-label figures of a 14-label model', () => {
  test("equal Python's: counts, prevalence, sensitivity, specificity, AUC (undefined where a label has no positives)", () => {
    const f = labelFigures(multiLabelEvents('r'));
    expectPythonFigures(f);
  });
});

/** The 14-label model's results as its worker events say them, with the manifest's sets. */
function multiLabelEvents(runId: string): CompletedEvent[] {
  const ref = expected['cxr14-tiny'];
  const c = card('cxr14-tiny');
  const sets = manifestSets();
  return (expected.keys as string[]).map((key, i) => {
    const scores: number[] = ref.scores[i];
    return {
      ...event(i, scores, {
        labels: sets.get(key),
        prediction: {
          target: 0,
          scores,
          predicted: predictedClass(scores, c),
          classes: c.output.classes,
          kind: 'multi-label',
          labels: predictedLabels(scores, c),
          thresholds: ref.thresholds,
        },
      }),
      runId,
    };
  });
}

function expectPythonFigures(f: ReturnType<typeof labelFigures>) {
  const ref = expected['cxr14-tiny'];
  expect(f?.kind).toBe('multi-label');
  expect(f?.labelled).toBe(16);
  expect(f?.classes.map((x) => x.name)).toEqual(ref.classes);
  for (const got of f?.classes ?? []) {
    const want = ref.perLabel[got.name];
    expect([got.tp, got.fp, got.fn, got.tn], got.name).toEqual([
      want.tp,
      want.fp,
      want.fn,
      want.tn,
    ]);
    close(got.prevalence, want.prevalence);
    close(got.sensitivity, want.sensitivity);
    close(got.specificity, want.specificity);
    close(got.auc, want.auc);
  }
  // Fibrosis: nobody has it (sensitivity and AUC undefined); Hernia scores 1.0 everywhere (AUC 0.5).
  expect(f?.classes[11]).toMatchObject({ positives: 0, sensitivity: null, auc: null });
  expect(f?.classes[13].auc).toBe(0.5);
  expect(f?.classes[6].threshold).toBe(0.6);
}

describe('per-label figures in the run status (real Redis, the results API in-process)', () => {
  let services: TestServices;
  let redis: Redis;
  let api: ResultsService;
  beforeAll(async () => {
    services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
    redis = new Redis(services.redis.url);
    api = await startResults(services.config, {
      port: 0,
      logger: createLogger('results-test', 'silent'),
      indexer: { blockMs: 200 },
    });
  });
  afterAll(async () => {
    await api?.close();
    redis?.disconnect();
    await services?.close();
  });

  test("a manifest run's status carries Python's per-label figures; a prefix run's none", async () => {
    const runId = 'r-multilabel';
    await seedRun(redis, {
      runId,
      model: 'cxr14-tiny@1',
      source: { bucket: 'data', manifest: 'byom/multilabel.csv' },
    });
    const events = multiLabelEvents(runId);
    const unlabelled = { ...completed({ jobId: 'j-none', runId }), model: 'cxr14-tiny@1' };
    const ids = [...events.map((e) => e.jobId), 'j-none', 'j-failed'];
    await addJobs(redis, runId, ids);
    for (const e of events) await publish(redis, e);
    await publish(redis, unlabelled);
    await publish(redis, failed({ jobId: 'j-failed', runId }));
    const status = async () => (await get(api.port, `/v1/runs/${runId}`, TOKENS.owner)).body;
    await waitFor(async () => {
      const s = await status();
      return s.completed === 17 && s.failed === 1;
    });
    const s = await status();
    expect(s.labelFigures.labelled).toBe(16);
    expect(s.labelFigures.sampled).toBeUndefined();
    expectPythonFigures(s.labelFigures);
    // A list of runs leaves them out (they read the run's results).
    const stored = await loadRun(redis, runId);
    const bare = await runStatus(redis, stored!, Date.now(), { labelFigures: false });
    expect(bare.completed).toBe(17);
    expect('labelFigures' in bare).toBe(false);

    const prefixRun = 'r-prefix';
    await seedRun(redis, { runId: prefixRun });
    await addJobs(redis, prefixRun, ['p1']);
    await publish(redis, completed({ jobId: 'p1', runId: prefixRun, label: 1 }));
    const other = async () => (await get(api.port, `/v1/runs/${prefixRun}`, TOKENS.owner)).body;
    await waitFor(async () => (await other()).completed === 1);
    expect((await other()).labelFigures).toBeUndefined();
  });
});

describe('one-vs-rest figures of a 3-class model', () => {
  test("accuracy, confusion matrix and per-class figures equal Python's", () => {
    const ref = expected['tri-tiny'];
    const c = card('tri-tiny');
    const events = (expected.keys as string[]).map((_, i) => {
      const scores: number[] = ref.scores[i];
      return event(i, scores, {
        label: ref.labels[i],
        prediction: {
          target: 0,
          scores,
          predicted: predictedClass(scores, c),
          classes: c.output.classes,
          kind: 'multi-class',
        },
      });
    });
    const f = labelFigures(events);
    expect(f?.kind).toBe('multi-class');
    close(f?.accuracy ?? null, ref.accuracy);
    expect(f?.matrix).toEqual(ref.matrix);
    for (const got of f?.classes ?? []) {
      const want = ref.perClass[got.name];
      expect([got.tp, got.fp, got.fn, got.tn]).toEqual([want.tp, want.fp, want.fn, want.tn]);
      close(got.sensitivity, want.sensitivity);
      close(got.specificity, want.specificity);
      close(got.auc, want.auc);
    }
  });
});

describe('ROC AUC by ranks', () => {
  test('ties count one half; perfect and reversed orders', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([1, 1, 1], [true, false, false])).toBe(0.5);
    expect(rocAuc([0.2, 0.9], [false, true])).toBe(1);
    expect(rocAuc([0.2, 0.9], [true, false])).toBe(0);
    expect(rocAuc([0.2, 0.9], [true, true])).toBeNull();
  });
});
