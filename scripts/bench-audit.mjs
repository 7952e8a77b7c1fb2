#!/usr/bin/env node
// What a run's data-set audit costs in worker time, against the run itself: one worker process
// (`camflow serve worker`), a run of N held-out phantoms with `audit: false`, then the audit
// started on the completed run (POST /v1/runs/:id/audit). The worker's CPU time (utime + stime
// from /proc) is read before, between and after: the ratio audit / run is the figure (target:
// <= 0.25 for a 10k-image run). The audit's occlusion work is bounded (48 carriers per candidate
// region, 24 images for the faithfulness curves), its statistics read every result once: its
// share falls as runs grow.
//
// Usage: node scripts/bench-audit.mjs [--images 2000] [--model xray-shortcut] [--json]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@camflow/config';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import { embeddedS3Env, S3Store } from '@camflow/storage';
import {
  Cleanup,
  freePort,
  startBackends,
  startService,
  waitHealthy,
} from './bench-pipeline-stack.mjs';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    model: { type: 'string', default: 'xray-shortcut' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.images);
const TOKEN = 'bench-audit-admin-token-0123';
const say = (s) => process.stderr.write(`${s}\n`);
const cleanup = new Cleanup();
process.once('SIGINT', () => cleanup.run().then(() => process.exit(130)));

/** Seconds of CPU a process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command's ')'.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'camflow-bench-audit-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const { redis, s3 } = await startBackends(dir, cleanup);
  const ports = { ingest: await freePort(), results: await freePort(), worker: await freePort() };
  const env = {
    REDIS_URL: redis.url,
    ...embeddedS3Env(s3.endpoint),
    CAMFLOW_API_TOKENS: JSON.stringify({ [TOKEN]: { scopes: ['admin'], buckets: ['*'] } }),
    INGEST_PORT: String(ports.ingest),
    RESULTS_PORT: String(ports.results),
    HOST: '127.0.0.1',
    CAMFLOW_CACHE_DIR: join(dir, 'models'),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const store = S3Store.fromConfig(config);
  cleanup.push(async () => store.close());
  for (const b of [config.CAMFLOW_OUTPUT_BUCKET, config.CAMFLOW_MODEL_BUCKET, 'phantoms'])
    await store.ensureBucket(b);
  const modelDir = join(import.meta.dirname, '../test/fixtures/models', values.model);
  await pushModel(store, config, {
    onnxPath: join(modelDir, 'model.onnx'),
    cardPath: join(modelDir, 'model.json'),
    name: values.model,
    version: '1',
  });
  say(`uploading ${N} phantoms (seed 61, markers on 90% of positives)`);
  const rows = ['key,label'];
  for (let i = 0; i < N; i++) {
    const s = synthesizeSample({ count: N, seed: 61, size: 256, shortcut: 0.9 }, i);
    await store.put(
      'phantoms',
      `set/${s.name}.png`,
      (await encodeSamplePngs(s)).image,
      'image/png',
    );
    rows.push(`set/${s.name}.png,${s.label}`);
  }
  await store.put('phantoms', 'set/labels.csv', `${rows.join('\n')}\n`, 'text/csv');

  const ingest = startService('ingest', env, dir, cleanup);
  const results = startService('results', env, dir, cleanup);
  // The worker's own ops listener (its /readyz says when it takes jobs).
  const worker = startService(
    'worker',
    { ...env, METRICS_PORT: String(ports.worker) },
    dir,
    cleanup,
  );
  await waitHealthy(`http://127.0.0.1:${ports.ingest}/healthz`, ingest);
  await waitHealthy(`http://127.0.0.1:${ports.results}/healthz`, results);
  await waitHealthy(`http://127.0.0.1:${ports.worker}/readyz`, worker);
  const api = async (base, path, init = {}) => {
    const r = await fetch(`http://127.0.0.1:${base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    if (!r.ok && r.status !== 202) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const poll = async (get, done) => {
    for (;;) {
      const v = await get();
      if (done(v)) return v;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const pid = worker.child.pid;
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const { runId } = await api(ports.ingest, '/v1/runs', {
    method: 'POST',
    body: JSON.stringify({
      model: `${values.model}@1`,
      source: { bucket: 'phantoms', manifest: 'set/labels.csv' },
      audit: false,
    }),
  });
  let last = 0;
  await poll(
    () => api(ports.results, `/v1/runs/${runId}`),
    (s) => {
      const done = s.completed + s.failed;
      if (done - last >= N / 10) {
        say(`  run: ${done} of ${N}`);
        last = done;
      }
      return s.status === 'completed' || s.status === 'failed';
    },
  );
  const cpu1 = cpuSeconds(pid);
  const t1 = Date.now();
  await api(ports.results, `/v1/runs/${runId}/audit`, { method: 'POST', body: '{}' });
  const audit = await poll(
    () => api(ports.results, `/v1/runs/${runId}/audit`),
    (a) => a.status === 'done' || a.status === 'failed',
  );
  const cpu2 = cpuSeconds(pid);
  const t2 = Date.now();
  const out = {
    images: N,
    model: `${values.model}@1`,
    run: {
      workerCpuSeconds: +(cpu1 - cpu0).toFixed(2),
      wallSeconds: +((t1 - t0) / 1000).toFixed(1),
    },
    audit: {
      workerCpuSeconds: +(cpu2 - cpu1).toFixed(2),
      wallSeconds: +((t2 - t1) / 1000).toFixed(1),
      status: audit.status,
      verdict: audit.verdict,
      findings: audit.findings?.length ?? 0,
      occlusionImages: (audit.findings ?? []).reduce((a, f) => a + (f.occlusion?.images ?? 0), 0),
    },
    ratio: +((cpu2 - cpu1) / (cpu1 - cpu0)).toFixed(3),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else
    process.stdout.write(
      `${N} images, ${out.model}: run ${out.run.workerCpuSeconds} s worker CPU (${out.run.wallSeconds} s), audit ${out.audit.workerCpuSeconds} s worker CPU (${out.audit.wallSeconds} s, ${out.audit.verdict}, ${out.audit.findings} findings): audit / run = ${out.ratio} (load ${out.load})\n`,
    );
}

main()
  .catch((err) => {
    process.stderr.write(`bench-audit: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup.run());
