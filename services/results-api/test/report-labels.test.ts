// The report of a multi-label run (each CAM's class and score, the predicted set, an empty CAM's
// badge, the per-label table) and of a many-class run (one-vs-rest, the matrix behind a toggle).
import type { CompletedEvent } from '@camflow/contracts';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import {
  addJobs,
  completed,
  get,
  OUTPUT_BUCKET,
  png,
  publish,
  seedRun,
  TOKENS,
  TOKENS_ENV,
  waitFor,
} from './helpers.js';

const EVIL = '<img src=x onerror=alert(1)>';
const LABELS = ['Pneumonia', 'Effusion', EVIL];
const THRESHOLDS = [0.5, 0.4, 0.7];

let services: TestServices;
let redis: Redis;
let api: ResultsService;

/** A multi-label result: its scores, the set over the thresholds, one CAM per predicted label. */
function multiLabel(
  jobId: string,
  scores: number[],
  truth: string[],
  empty?: NonNullable<CompletedEvent['emptyCam']>,
): CompletedEvent {
  const e = completed({ jobId, runId: 'ml', key: `cxr/${jobId}.png` });
  const set = scores.map((s, k) => (s >= THRESHOLDS[k] ? k : -1)).filter((k) => k >= 0);
  const cams = set.map((k, i) => ({
    target: k,
    className: LABELS[k],
    score: scores[k],
    overlayKey: `${e.outputs.overlayKey}.t${k}.png`,
    heatmapKey: `${e.outputs.heatmapKey}.t${k}.png`,
    stats: e.stats,
    ...(i === 0 && empty && { empty }),
  }));
  return {
    ...e,
    model: 'cxr@1',
    labels: truth,
    targets: 'predicted',
    prediction: {
      target: set[0] ?? 0,
      scores,
      predicted: scores.indexOf(Math.max(...scores)),
      classes: LABELS,
      kind: 'multi-label',
      labels: set,
      thresholds: THRESHOLDS,
    },
    ...(cams.length && { cams }),
    ...(empty && { emptyCam: empty }),
  };
}

const ROWS: [string, number[], string[]][] = [
  ['a', [0.83, 0.61, 0.1], ['Pneumonia', 'Effusion']],
  ['b', [0.2, 0.45, 0.9], [EVIL]],
  ['c', [0.55, 0.1, 0.2], []],
  ['d', [0.3, 0.2, 0.75], ['Pneumonia', EVIL]],
];
const SATURATED = { reason: 'saturated' as const, message: 'score 1 in float32: gradient 0' };

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, {
    port: 0,
    logger: createLogger('results-test', 'silent'),
    indexer: { blockMs: 200 },
  });
  await seedRun(redis, {
    runId: 'ml',
    model: 'cxr@1',
    targets: 'predicted',
    source: { bucket: 'data', manifest: 'labels.csv' },
  });
  await addJobs(
    redis,
    'ml',
    ROWS.map((r) => r[0]),
  );
  for (const [id, scores, truth] of ROWS) {
    const ev = multiLabel(id, scores, truth, id === 'd' ? SATURATED : undefined);
    for (const key of [ev.outputs.overlayKey, ...(ev.cams ?? []).map((c) => c.overlayKey)])
      await services.store.put(OUTPUT_BUCKET, key, png(8, 8), 'image/png');
    await publish(redis, ev);
  }
  // A 6-class softmax run: one-vs-rest per class, the matrix behind a toggle.
  await seedRun(redis, { runId: 'mc', target: 2, source: { bucket: 'data', manifest: 'mc.csv' } });
  const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
  const mc = [0, 1, 2, 3, 4, 5, 0].map((label, i) => {
    const predicted = i === 6 ? 1 : label;
    const scores = names.map((_, k) => (k === predicted ? 0.9 : 0.02));
    const e = completed({ jobId: `mc${i}`, runId: 'mc', label: names[label] });
    // mc3's one CAM (no `cams`: a single target) is zero everywhere.
    const empty = i === 3 && { emptyCam: { reason: 'no-evidence' as const, message: 'ReLU <0>' } };
    // mc6 has two targets (top 2): each CAM names its class and its own score.
    const cams = i === 6 && {
      cams: [predicted, 0].map((k) => ({
        target: k,
        score: scores[k],
        overlayKey: `${e.outputs.overlayKey}.t${k}.png`,
        heatmapKey: `${e.outputs.heatmapKey}.t${k}.png`,
        stats: e.stats,
      })),
    };
    return {
      ...e,
      prediction: { target: 2, scores, predicted, classes: names },
      ...empty,
      ...cams,
    };
  });
  await addJobs(
    redis,
    'mc',
    mc.map((e) => e.jobId),
  );
  for (const e of mc) await publish(redis, e);
  for (const run of ['ml', 'mc'])
    await waitFor(
      async () =>
        (await get(api.port, `/v1/runs/${run}`, TOKENS.owner)).body.status === 'completed',
    );
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

/** The card of one job (up to the next card). */
function cardOf(page: string, jobId: string): string {
  const start = page.indexOf(`data-job="${jobId}"`);
  expect(start).toBeGreaterThan(0);
  const next = page.indexOf('data-job="', start + 1);
  return page.slice(start, next < 0 ? undefined : next);
}

describe('report of a multi-label run', () => {
  it("names each CAM's class with its own score and links its overlay", async () => {
    const page = (await get(api.port, '/v1/runs/ml/report', TOKENS.owner)).text;
    const a = cardOf(page, 'a');
    expect(a).toContain('CAM: <b>Pneumonia</b> 0.83');
    expect(a).toContain('CAM: <b>Effusion</b> 0.61');
    const links = [...a.matchAll(/<a href="([^"]+)" title="overlay of this CAM">/g)].map((m) =>
      m[1].replaceAll('&amp;', '&'),
    );
    expect(links).toHaveLength(2);
    expect(links[1]).toContain('.t1.png');
    expect((await fetch(links[1])).status).toBe(200);
    // A hostile class name is text wherever it appears.
    const b = cardOf(page, 'b');
    expect(b).toContain('CAM: <b>&lt;img src=x onerror=alert(1)&gt;</b> 0.90');
    expect(page).not.toContain(EVIL);
    expect(page).not.toContain('<script');
  });

  it('shows the predicted label set and the label set by name, not the top score', async () => {
    const page = (await get(api.port, '/v1/runs/ml/report', TOKENS.owner)).text;
    expect(cardOf(page, 'a')).toContain(
      'predicted <b>{Pneumonia, Effusion}</b> (0.830, 0.610), labels <b>{Pneumonia, Effusion}</b>',
    );
    expect(cardOf(page, 'c')).toContain('predicted <b>{Pneumonia}</b> (0.550), labels <b>none</b>');
    expect(cardOf(page, 'd')).toContain(
      'predicted <b>{&lt;img src=x onerror=alert(1)&gt;}</b> (0.750), labels <b>{Pneumonia, &lt;img',
    );
    expect(page).not.toMatch(/predicted <b>[^{]/);
    expect(page).toContain('<td>targets</td><td class="k">every predicted label</td>');
  });

  it('badges an all-zero CAM with its reason', async () => {
    const page = (await get(api.port, '/v1/runs/ml/report', TOKENS.owner)).text;
    expect(cardOf(page, 'd')).toMatch(
      /CAM: <b>&lt;img src=x onerror=alert\(1\)&gt;<\/b> 0\.75 <a [^>]+>overlay<\/a> <span class="tag empty" title="score 1 in float32: gradient 0">empty map: saturated output<\/span>/,
    );
    expect(page.match(/class="tag empty"/g)).toHaveLength(1);
  });

  it('shows per-label figures instead of a confusion matrix', async () => {
    const page = (await get(api.port, '/v1/runs/ml/report', TOKENS.owner)).text;
    expect(page).not.toContain('label \\ predicted');
    expect(page).toContain('<h2>Against the labels, per label</h2>');
    // Exact match: a (same set) only; c predicts Pneumonia without a label, b and d miss one.
    expect(page).toContain('predicted set equal to the label set on <b>25.0%</b>');
    const rows = [...page.matchAll(/<tr><td class="k">([^<]*)<\/td>((?:<td>[^<]*<\/td>)+)<\/tr>/g)]
      .map((m) => [m[1], ...[...m[2].matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1])])
      .filter((r) => r.length === 8);
    // Counted by hand from ROWS; AUC as the share of (positive, negative) pairs ranked right:
    // Pneumonia's positives score 0.83 and 0.3, its negatives 0.2 and 0.55: 3 of 4 pairs.
    expect(rows).toEqual([
      // label, threshold, with it, predicted, prevalence, sensitivity, specificity, AUC
      ['Pneumonia', '0.50', '2', '2', '0.500', '0.500', '0.500', '0.750'],
      ['Effusion', '0.40', '1', '2', '0.250', '1.000', '0.667', '1.000'],
      ['&lt;img src=x onerror=alert(1)&gt;', '0.70', '2', '2', '0.500', '1.000', '1.000', '1.000'],
    ]);
  });
});

describe('report of a many-class run', () => {
  it('shows one class against the rest per class, the full matrix behind a toggle, classes by name', async () => {
    const page = (await get(api.port, '/v1/runs/mc/report', TOKENS.owner)).text;
    expect(page).toContain('accuracy <b>0.857</b> (6 of 7 labelled images)');
    const details =
      /<details><summary>Full confusion matrix \(6 classes\)<\/summary>([\s\S]*?)<\/details>/.exec(
        page,
      );
    expect(details?.[1]).toContain('label \\ predicted');
    // Matrices (this one, and the per-split one) appear only behind toggles.
    expect(page.replace(/<details>[\s\S]*?<\/details>/g, '')).not.toContain('label \\ predicted');
    expect(page).toContain('<details><summary>(none): confusion matrix (6 classes)</summary>');
    // c0: 2 images with it, 1 predicted right (the other predicted c1); c1 predicted twice.
    // AUC: c0's missed image ties its 5 negatives (0.02): (5 + 2.5) / 10; c1's one positive ties
    // one negative (mc6) and beats 5: 5.5 / 6.
    expect(page).toContain(
      '<tr><td class="k">c0</td><td>2</td><td>1</td><td>0.286</td><td>0.500</td><td>1.000</td><td>0.750</td></tr>',
    );
    expect(page).toContain(
      '<tr><td class="k">c1</td><td>1</td><td>2</td><td>0.143</td><td>1.000</td><td>0.833</td><td>0.917</td></tr>',
    );
    // The run's target, by the class it names.
    expect(page).toContain('<td>target</td><td class="k">c2</td>');
    expect(page).toContain('label <b>c0</b>');
    // Several CAMs: one line each, by class name (the event names none: the card's classes).
    const two = cardOf(page, 'mc6');
    expect(two).toMatch(
      /CAM: <b>c1<\/b> 0\.90[^<]*<a[^>]+>overlay<\/a>[^<]*<\/li><li>CAM: <b>c0<\/b> 0\.02/,
    );
    expect(two).toContain('predicted <b>c1</b> (score 0.900), label <b>c0</b>');
    expect(two).not.toContain('CAM explains');
    // A single CAM's empty map is badged on its card, and only there.
    expect(cardOf(page, 'mc3')).toContain(
      '<span class="tag empty" title="ReLU &lt;0&gt;">empty map: no evidence for the class</span>',
    );
    expect(page.match(/class="tag empty"/g)).toHaveLength(1);
  });
});

describe('compare page', () => {
  it('gives a multi-label run its exact-match share and mean AUC instead of an accuracy', async () => {
    const res = await get(api.port, '/v1/compare?runs=ml,mc', TOKENS.owner);
    expect(res.status).toBe(200);
    // Mean AUC (0.750 + 1 + 1) / 3; only a of a, b, c, d has its label set predicted exactly.
    expect(res.text).toContain(
      '<td>accuracy</td><td class="k">label set exact on 25.0% of 4 labelled; mean AUC 0.917 over 3 of 3 labels</td>',
    );
    expect(res.text).toContain('<td>accuracy</td><td class="k">0.857 (6 of 7 labelled)</td>');
  });
});
