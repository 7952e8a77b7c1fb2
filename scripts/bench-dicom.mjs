#!/usr/bin/env node
// DICOM latency benchmark (issue 10): Orthanc (the PACS) C-STOREs instances one at a time to
// `camflow serve dicom`; one `camflow serve worker` explains each and C-STOREs its Secondary
// Capture back to Orthanc. Latency = from the C-STORE response (Orthanc's synchronous store
// returning) to the Secondary Capture being listed in Orthanc (its change log, polled every
// 20 ms), per reference model, after one warm-up instance. The worker's own stage timings (from
// the events stream) say where the time goes.
// Usage: node scripts/bench-dicom.mjs [--count 50] [--size 1024] [--models xray-clean,xray-shortcut]
//        [--json]   (needs Debian's orthanc; redis-server; `tsc -b` first: npm run bench:dicom)
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeGreyInstance } from '@camflow/dicom';
import { synthesizeSample } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import { embeddedS3Env, S3Store } from '@camflow/storage';
import { Redis } from 'ioredis';
import { hasOrthanc, ORTHANC_INSTALL, startOrthanc } from '../services/cli/dist/demo/orthanc.js';
import {
  Cleanup,
  freePort,
  logTail,
  startBackends,
  startService,
} from './bench-pipeline-stack.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50' },
    size: { type: 'string', default: '1024' },
    models: { type: 'string', default: 'xray-clean,xray-shortcut' },
    json: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const SIZE = Number(values.size);
const MODELS = values.models.split(',').filter(Boolean);
const SC = '1.2.840.10008.5.1.4.1.1.7';
const log = (s) => process.stderr.write(`${s}\n`);

if (!hasOrthanc()) {
  log(`bench-dicom: Orthanc is not installed (${ORTHANC_INSTALL})`);
  process.exit(2);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** 12-bit phantoms (a digital X-ray detector's range) as DX instances, one study. */
function instances(n, seed) {
  return Array.from({ length: n }, (_, i) => {
    const sample = synthesizeSample({ count: n, seed, size: SIZE, shortcut: 0.5 }, i);
    return encodeGreyInstance({
      pixels: Uint16Array.from(sample.image, (v) => v * 16),
      width: SIZE,
      height: SIZE,
      seed: `bench-dicom-${seed}`,
      instanceNumber: i + 1,
      patientName: 'BENCH^PHANTOM',
      patientID: 'BENCH-0001',
      accessionNumber: 'BENCH0001',
    });
  });
}

/** Waits for the next NewInstance in Orthanc's change log after `since`; returns it. */
async function nextInstance(orthanc, since, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = await orthanc.rest(`/changes?since=${since.seq}&limit=100`);
    since.seq = c.Last;
    const added = c.Changes.find((x) => x.ChangeType === 'NewInstance');
    if (added) return { id: added.ID, at: performance.now() };
    if (performance.now() > deadline) throw new Error('no Secondary Capture within 120 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanup = new Cleanup();
process.once('SIGINT', () => cleanup.run().then(() => process.exit(130)));
const dir = mkdtempSync(join(tmpdir(), 'camflow-bench-dicom-'));
cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));

try {
  const loadBefore = loadavg();
  const { redis, s3 } = await startBackends(dir, cleanup);
  const ports = { orthancDicom: await freePort(), camflowDicom: await freePort() };
  const orthanc = await startOrthanc(join(dir, 'orthanc'), {
    dicomPort: ports.orthancDicom,
    modalities: { camflow: ['CAMFLOW', '127.0.0.1', ports.camflowDicom] },
  });
  cleanup.track(orthanc.child);
  cleanup.push(() => orthanc.close());
  const baseEnv = {
    REDIS_URL: redis.url,
    ...embeddedS3Env(s3.endpoint),
    CAMFLOW_OUTPUT_BUCKET: 'camflow-outputs',
    CAMFLOW_MODEL_BUCKET: 'camflow-models',
    CAMFLOW_CACHE_DIR: join(dir, 'model-cache'),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DICOM_PORT: String(ports.camflowDicom),
    DICOM_ALLOWED_AETS: '["ORTHANC"]',
    CAMFLOW_DICOM_DESTINATIONS: JSON.stringify({
      pacs: { type: 'dimse', host: '127.0.0.1', port: ports.orthancDicom, aeTitle: 'ORTHANC' },
    }),
  };
  const env0 = embeddedS3Env(s3.endpoint);
  const store = S3Store.fromConfig({
    S3_ENDPOINT: env0.S3_ENDPOINT,
    S3_REGION: env0.S3_REGION,
    S3_ACCESS_KEY_ID: env0.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: env0.S3_SECRET_ACCESS_KEY,
    S3_FORCE_PATH_STYLE: true,
  });
  cleanup.push(async () => store.close());
  for (const b of ['camflow-outputs', 'camflow-models']) await store.ensureBucket(b);
  const events = new Redis(redis.url);
  cleanup.push(async () => events.disconnect());

  const results = [];
  for (const [m, model] of MODELS.entries()) {
    const modelDir = join(root, 'test/fixtures/models', model);
    await pushModel(
      store,
      { CAMFLOW_MODEL_BUCKET: 'camflow-models' },
      {
        onnxPath: join(modelDir, 'model.onnx'),
        cardPath: join(modelDir, 'model.json'),
        name: model,
        version: '1',
      },
    );
    const env = {
      ...baseEnv,
      CAMFLOW_DICOM_RULES: JSON.stringify([{ model: `${model}@1`, destination: 'pacs' }]),
    };
    const dicom = startService('dicom', env, dir, cleanup);
    const worker = startService('worker', env, dir, cleanup);
    const sources = instances(COUNT + 1, 100 + m);
    const ids = [];
    for (const s of sources) ids.push((await orthanc.rest('/instances', s.bytes)).ID);
    const since = { seq: (await orthanc.rest('/changes?last')).Last };
    // Wait for the SCP (Orthanc's C-STORE fails until camflow serve dicom listens).
    const started = performance.now();
    for (;;) {
      const ok = await orthanc
        .rest('/modalities/camflow/echo', {})
        .then(() => true)
        .catch(() => false);
      if (ok) break;
      if (dicom.child.exitCode !== null || performance.now() - started > 60_000)
        throw new Error(`camflow serve dicom did not start: ${logTail(dicom.logFile)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`bench-dicom: ${model}: ${COUNT} instances of ${SIZE}x${SIZE} (+1 warm-up)`);
    const latencies = [];
    let cold;
    for (const [i, id] of ids.entries()) {
      await orthanc.rest('/modalities/camflow/store', { Resources: [id], Synchronous: true });
      const stored = performance.now();
      const sc = await nextInstance(orthanc, since);
      const tags = await orthanc.rest(`/instances/${sc.id}/simplified-tags`);
      if (
        tags.SOPClassUID !== SC ||
        tags.SourceImageSequence?.[0]?.ReferencedSOPInstanceUID !== sources[i].sopInstanceUID
      ) {
        throw new Error(`instance ${i}: a new instance in Orthanc is not its Secondary Capture`);
      }
      const seconds = (sc.at - stored) / 1000;
      if (i === 0) cold = seconds;
      else latencies.push(seconds);
      if (i > 0 && i % 10 === 0) log(`  ${i}/${COUNT}: last ${seconds.toFixed(3)} s`);
    }
    // The worker's own stage timings (ms), from its job.completed events.
    const entries = await events.xrange('camflow:events', '-', '+');
    const stages = {};
    for (const [, fields] of entries) {
      const e = JSON.parse(fields[1]);
      if (e.type !== 'job.completed' || e.model !== `${model}@1`) continue;
      for (const [k, v] of Object.entries(e.timings ?? {})) {
        stages[k] ??= [];
        stages[k].push(v);
      }
    }
    await worker.stop();
    await dicom.stop();
    results.push({
      model: `${model}@1`,
      count: latencies.length,
      p50Seconds: round(pct(latencies, 50)),
      p95Seconds: round(pct(latencies, 95)),
      minSeconds: round(Math.min(...latencies)),
      maxSeconds: round(Math.max(...latencies)),
      coldSeconds: round(cold),
      workerStageP50Ms: Object.fromEntries(
        Object.entries(stages).map(([k, v]) => [k, round(pct(v, 50), 1)]),
      ),
    });
  }
  const report = {
    size: `${SIZE}x${SIZE} 16-bit (12 stored) DX, explicit VR little endian`,
    sequential: 'one instance at a time: each waits for the previous Secondary Capture',
    pollMs: 20,
    machine: {
      cpus: availableParallelism(),
      cpu: cpus()[0]?.model,
      loadavgBefore: loadBefore.map((x) => round(x, 2)),
      loadavgAfter: loadavg().map((x) => round(x, 2)),
      node: process.version,
    },
    results,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(
      `DICOM latency, C-STORE response -> Secondary Capture in Orthanc (${report.size}, one worker)\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `${r.model.padEnd(18)} p50 ${r.p50Seconds.toFixed(3)} s  p95 ${r.p95Seconds.toFixed(3)} s  (min ${r.minSeconds}, max ${r.maxSeconds}, n=${r.count}, cold ${r.coldSeconds} s)\n` +
          `${''.padEnd(18)} worker stages p50 (ms): ${Object.entries(r.workerStageP50Ms)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}\n`,
      );
    }
    process.stdout.write(
      `machine: ${report.machine.cpus} CPUs (${report.machine.cpu}), load average before ${report.machine.loadavgBefore.join(' ')}, after ${report.machine.loadavgAfter.join(' ')}\n`,
    );
  }
} catch (err) {
  log(`bench-dicom: ${err.message}`);
  process.exitCode = 1;
} finally {
  await cleanup.run();
}
