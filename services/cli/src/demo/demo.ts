import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { encodeSamplePngs, synthesizeSample, writeSynthDataset } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import { ApiClient } from '../api-client.js';
import { positiveInt, usage } from '../args.js';
import { evaluateModel } from '../commands/evaluate.js';
import { browserLink, waitForAudit, watch } from '../commands/runs.js';
import { engineOptions } from '../commands/runtime-options.js';
import { formatEvaluation } from '../evaluation.js';
import { loadModelSource } from '../model-source.js';
import { ProgressBar } from '../progress.js';
import { saveReport } from '../report-files.js';
import { DEMO_SHORTCUT, uploadDemoDataset } from './dataset.js';
import {
  HOSPITAL_MISSING,
  type Hospital,
  hospitalRound,
  planHospital,
  startHospital,
} from './hospital.js';
import { startDemoStack } from './stack.js';
import { formatDisagreement, formatSummaries, maskCrossCheck, summariseRun } from './summary.js';

/** The reference models trained on the phantoms (test/fixtures/models). */
const MODELS_DIR = fileURLToPath(new URL('../../../../test/fixtures/models/', import.meta.url));
const MODELS = ['xray-clean', 'xray-shortcut'];

/**
 * `camflow demo`: the whole pipeline on this machine with embedded defaults: Redis and S3, the
 * three services, a synthetic audit data set, the two reference models, a run per model with a
 * progress bar, a hospital-style bucket event, then the reports and a summary. With a terminal
 * it keeps serving the reports until Ctrl-C; otherwise (or with --exit) it stops at the end.
 */
export async function demoCommand(
  argv: string[],
  config: Config,
  redisUrlSet: boolean,
): Promise<number> {
  const { values } = usage(() =>
    parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        models: { type: 'string' },
        exit: { type: 'boolean', default: false },
      },
    }),
  );
  const dir = resolve(values.dir ?? 'camflow-demo');
  // 400 phantoms give each model ~200 pneumonia predictions: what the audit needs to tell a
  // marker's isolated cluster from pathology clustering in the lungs (fewer: inconclusive).
  const count = positiveInt(values.count, 'count', 400);
  const seed = positiveInt(values.seed, 'seed', 2026);
  await mkdir(dir, { recursive: true });
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`camflow demo: working in ${dir}`);
  // The hospital path's DICOM rules and destination must reach the services when they start.
  const hospitalPlan = await planHospital();
  const stack = await startDemoStack(dir, config, redisUrlSet, hospitalPlan.env);
  let hospital: Hospital | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    process.stderr.write('\ncamflow demo: stopping...\n');
    void Promise.all([hospital?.close(), stack.close()]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    for (const n of stack.notes) say(`  ${n}`);
    const api = new ApiClient(stack.ingestUrl, stack.resultsUrl, stack.token);

    const bar = new ProgressBar('upload');
    const data = await uploadDemoDataset(stack.store, {
      count,
      seed,
      prefix: 'chest-xray/test/',
      onProgress: (d) => bar.update(d, count),
    });
    bar.done();
    say(
      `  data: ${data.count} phantoms in s3://data/${data.prefix} (${data.positives} pneumonia, ${data.markers} with a corner marker), manifest ${data.manifestKey}`,
    );

    const modelsDir = values.models ? resolve(values.models) : MODELS_DIR;
    const models = MODELS.filter((m) => existsSync(join(modelsDir, m, 'model.onnx')));
    if (models.length === 0)
      throw new Error(`no reference models (${MODELS.join(', ')}) in ${modelsDir}`);
    for (const m of models) {
      await pushModel(stack.store, stack.config, {
        onnxPath: join(modelsDir, m, 'model.onnx'),
        cardPath: join(modelsDir, m, 'model.json'),
        name: m,
        version: '1',
      });
    }
    say(
      `  models: ${models.map((m) => `${m}@1`).join(', ')} pushed to s3://${stack.config.CAMFLOW_MODEL_BUCKET}`,
    );

    // The hospital path: a study from Orthanc (the PACS) to camflow and its explanations back
    // (before the runs, so it shows the latency of an idle worker).
    if (!hospitalPlan.ports) say(`  ${HOSPITAL_MISSING}`);
    else if (models.includes('xray-clean')) {
      try {
        hospital = await startHospital(hospitalPlan, dir, stack.env);
        if (hospital) for (const line of await hospitalRound(hospital, seed)) say(line);
      } catch (err) {
        say(`  hospital path failed: ${(err as Error).message} (see ${dir}/logs)`);
      }
    }

    const runs: { model: string; runId: string }[] = [];
    for (const m of models) {
      const { runId } = await api.request<{ runId: string }>('ingest', 'POST', '/v1/runs', {
        model: `${m}@1`,
        source: { bucket: 'data', manifest: data.manifestKey },
      });
      runs.push({ model: m, runId });
    }
    for (const r of runs) {
      const s = await watch(api, r.runId, r.model.padEnd(14));
      if (s.status !== 'completed') throw new Error(`run ${r.runId} ended ${s.status}`);
    }

    // A hospital scanner drops an image into a bucket; its notification reaches ingest.
    const latency = await scannerEvent(stack, api, seed);
    say(
      `  event-driven: a scanner upload was explained ${latency.toFixed(2)} s after its bucket notification`,
    );

    // The data-set audits start on their own when the runs complete (>= 50 images each).
    const summaries = [];
    for (const r of runs) {
      process.stderr.write(`audit of ${r.model}\n`);
      const audit = await waitForAudit(api, r.runId);
      summaries.push(await summariseRun(api, r.model, r.runId, audit));
    }
    say('');
    say(formatSummaries(summaries));
    for (const s of summaries) if (s.audit?.summary) say(`  ${s.model}: ${s.audit.summary}`);
    const ids = runs.map((r) => r.runId);
    const compare = await api.request<{
      common: number;
      disagree: number | null;
      threshold: number;
    }>('results', 'GET', `/v1/compare?runs=${encodeURIComponent(ids.join(','))}`, undefined, {
      accept: 'application/json',
    });
    const disagreement = formatDisagreement(
      compare,
      runs.map((r) => r.model),
    );
    if (disagreement) say(`  ${disagreement}`);
    // The cross-check with ground truth: the same phantoms with their lesion and marker masks.
    const dataDir = join(dir, 'audit-data');
    await writeSynthDataset({ out: dataDir, count, seed, size: 256, shortcut: DEMO_SHORTCUT });
    const evaluations = [];
    for (const m of models) {
      const source = await loadModelSource(join(modelsDir, m));
      evaluations.push({
        model: m,
        e: await evaluateModel(source, dataDir, engineOptions(config)),
      });
    }
    say('');
    for (const a of evaluations) say(formatEvaluation(`${a.model}@1`, a.e, a.e));
    say(maskCrossCheck(evaluations));
    say('');
    const hours = 24;
    for (const r of runs) {
      const link = await browserLink(
        api,
        r.runId,
        hours * 3600,
        ids.filter((i) => i !== r.runId),
      );
      const file = resolve(dir, `report-${r.model}.html`);
      const saved = await saveReport(api, r.runId, file);
      say(`report ${r.model}: ${link.url}`);
      say(`  (opens in a browser for ${hours} h; saved with its ${saved.images} images: ${file})`);
    }
    if (ids.length >= 2) {
      const link = await browserLink(api, ids[0], hours * 3600, ids.slice(1));
      const q = new URL(link.url).searchParams.get('link') ?? '';
      say(
        `compare: ${stack.resultsUrl}/v1/compare?runs=${encodeURIComponent(ids.join(','))}&link=${encodeURIComponent(q)}`,
      );
    }
    say('');
    say(
      `services: ingest ${stack.ingestUrl}, results ${stack.resultsUrl} (OpenAPI: ${stack.resultsUrl}/openapi.json)`,
    );
    say(`token for the APIs: ${stack.token}`);
    say('try another run (it reuses the work already done):');
    say(
      `  CAMFLOW_INGEST_URL=${stack.ingestUrl} CAMFLOW_RESULTS_URL=${stack.resultsUrl} CAMFLOW_TOKEN=${stack.token} npx camflow runs create s3://data/${data.prefix} --manifest ${data.manifestKey} --model ${models[0]}@1 --watch`,
    );
    if (!values.exit && process.stdin.isTTY && process.stdout.isTTY) {
      say('the services keep running so the reports can load their images; Ctrl-C stops them');
      await new Promise(() => {});
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (!interrupted) {
      await hospital?.close();
      await stack.close();
    }
  }
}

async function scannerEvent(
  stack: Awaited<ReturnType<typeof startDemoStack>>,
  api: ApiClient,
  seed: number,
) {
  const sample = synthesizeSample({ count: 1, seed: seed + 1, size: 256, shortcut: 1 }, 0);
  const key = `ward 7/${sample.name}.png`;
  await stack.store.put('scanner', key, (await encodeSamplePngs(sample)).image, 'image/png');
  const head = await stack.store.head('scanner', key);
  const started = performance.now();
  await api.request('ingest', 'POST', '/v1/events/s3', {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: 'scanner' },
          object: { key: encodeURIComponent(key).replaceAll('%20', '+'), eTag: head?.etag },
        },
      },
    ],
  });
  for (;;) {
    const list = await api.request<{ items: { runId: string; kind: string }[] }>(
      'results',
      'GET',
      '/v1/runs',
    );
    // The scanner bucket's events run (the hospital path's DICOM run is an events run too).
    const events = list.items.find(
      (r) => r.kind === 'events' && r.runId.startsWith('events-scanner-'),
    );
    if (events) {
      const s = await api.request<{ completed: number; failed: number }>(
        'results',
        'GET',
        `/v1/runs/${events.runId}`,
      );
      if (s.completed + s.failed > 0) return (performance.now() - started) / 1000;
    }
    if (performance.now() - started > 60_000)
      throw new Error('the scanner event produced no result within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
