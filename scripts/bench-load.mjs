// Issue 5, "Load": a sustained run of 20,000 images through the whole pipeline on this machine
// (own redis-server and s3rver; ingest, results and several workers as `camflow serve`
// processes), then the results API under a bounded loopback load. Writes the figures to
// docs/BENCHMARKS.md (between the load markers) and .camflow/reliability/load.jsonl.
//
//   npm run bench:load          (tsc -b && node scripts/bench-load.mjs)
//   node scripts/bench-load.mjs --report-only   (re-render the last run's saved figures)
//
// Settings (env): BENCH_LOAD_IMAGES (20000), BENCH_LOAD_DISTINCT (300 phantoms), BENCH_LOAD_SIZE
// (64 px), BENCH_LOAD_NF (4), BENCH_LOAD_WORKERS (3), BENCH_LOAD_BATCH (16),
// BENCH_LOAD_CONCURRENCY (32 jobs per worker), BENCH_LOAD_TIMEOUT_S (900),
// BENCH_LOAD_HTTP_SECONDS (20), BENCH_LOAD_HTTP_CONNECTIONS (4), BENCH_LOAD_DOCS (1: write docs),
// BENCH_LOAD_DOC_PATH (docs/BENCHMARKS.md).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { EVENTS_STREAM } from '@camflow/contracts';
import { Redis } from 'ioredis';
import { makePhantoms, uploadImages } from './bench-load/data.mjs';
import { loadRoute, presignCost } from './bench-load/http-load.mjs';
import { writeReport } from './bench-load/report.mjs';
import { cpuOf, redisUsedMiB, startSampler } from './bench-load/sampler.mjs';
import { DATA_BUCKET, startBackends, startServices } from './bench-load/stack.mjs';
import {
  allResults,
  checkExactlyOnce,
  getJson,
  latencySummary,
  throughputWindows,
  workerJobTimes,
} from './bench-load/verify.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const opts = {
  images: env('BENCH_LOAD_IMAGES', 20_000),
  distinct: env('BENCH_LOAD_DISTINCT', 300),
  size: env('BENCH_LOAD_SIZE', 64),
  nf: env('BENCH_LOAD_NF', 4),
  workers: env('BENCH_LOAD_WORKERS', 3),
  batch: env('BENCH_LOAD_BATCH', 16),
  concurrency: env('BENCH_LOAD_CONCURRENCY', 32),
  timeoutS: env('BENCH_LOAD_TIMEOUT_S', 900),
  httpSeconds: env('BENCH_LOAD_HTTP_SECONDS', 20),
  httpConnections: env('BENCH_LOAD_HTTP_CONNECTIONS', 4),
  sampleMs: env('BENCH_LOAD_SAMPLE_MS', 2000),
  docs: env('BENCH_LOAD_DOCS', 1) === 1,
};
const command = `${Object.entries(process.env)
  .filter(([k]) => k.startsWith('BENCH_LOAD_'))
  .map(([k, v]) => `${k}=${v} `)
  .join('')}node scripts/bench-load.mjs`;

/** The last run's raw figures (samples included), for --report-only. */
const FIGURES = join(import.meta.dirname, '../.camflow/load/figures.json');

const cleanups = [];
let workDir;
let cleaned;
const cleanup = () => {
  cleaned ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  })();
  return cleaned;
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping every process and removing temp files`);
    cleanup().finally(() => process.exit(130));
  });
}

const log = (msg) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const machine = {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadBefore: loadavg(),
  };
  const dir = await mkdtemp(join(tmpdir(), 'camflow-load-'));
  workDir = dir;
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  log(`load benchmark: ${JSON.stringify(opts)} in ${dir}`);

  const stack = await startBackends(dir, cleanups, opts);
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 3 });
  cleanups.push(async () => redis.disconnect());
  const phantoms = await makePhantoms(opts.distinct, opts.size);
  const upload = await uploadImages(stack.store, DATA_BUCKET, 'load/', phantoms, opts.images);
  log(
    `uploaded ${opts.images} keys (${opts.distinct} distinct PNGs) in ${upload.seconds.toFixed(1)} s`,
  );

  const services = await startServices(stack, dir, cleanups, {
    workers: opts.workers,
    workerEnv: {
      BATCH_SIZE: String(opts.batch),
      WORKER_CONCURRENCY: String(opts.concurrency),
      CAMFLOW_INTRA_OP_THREADS: '1',
    },
  });
  const byName = { ingest: services.procs[0].child.pid, results: services.procs[1].child.pid };
  services.workers.forEach((w, i) => {
    byName[`worker-${i}`] = w.pid;
  });
  const cpuPids = { ...byName, redis: stack.redis.process?.pid, s3rver: stack.s3.process.pid };
  const workerNames = services.workers.map((_, i) => `worker-${i}`);
  const redisBeforeMiB = await redisUsedMiB(redis);
  const cpuBefore = await cpuOf(cpuPids);
  const benchCpuBefore = process.cpuUsage();

  const t0 = Date.now();
  const auth = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
  const post = await fetch(`${stack.ingestUrl}/v1/runs`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model: stack.model, source: { bucket: DATA_BUCKET, prefix: 'load/' } }),
  });
  if (post.status !== 202) throw new Error(`POST /v1/runs: ${post.status} ${await post.text()}`);
  const { runId } = await post.json();
  const statusUrl = `${stack.resultsUrl}/v1/runs/${runId}`;
  const sampler = startSampler({
    redis,
    status: () => getJson(statusUrl, stack.token),
    procs: Object.entries(byName).map(([name, pid]) => ({
      name,
      pid,
      metricsUrl: services.workers[workerNames.indexOf(name)]?.metricsUrl,
    })),
    cpuPids,
    intervalMs: opts.sampleMs,
    t0,
  });
  cleanups.push(() => sampler.stop());

  let status;
  let lastLog = 0;
  for (;;) {
    status = await getJson(statusUrl, stack.token);
    const elapsed = (Date.now() - t0) / 1000;
    if (status.status === 'completed' || status.status === 'failed') break;
    if (elapsed > opts.timeoutS)
      throw new Error(`run not done after ${opts.timeoutS} s: ${JSON.stringify(status)}`);
    if (elapsed - lastLog >= 30) {
      lastLog = elapsed;
      const s = sampler.last();
      log(
        `${Math.round(elapsed)} s: ${status.completed} completed, ${status.failed} failed of ${status.total}` +
          ` (${status.throughput ?? '-'} img/s), Redis ${s?.redisMiB?.toFixed(1)} MiB, worker RSS ` +
          workerNames.map((n) => s?.rss[n]?.toFixed(0)).join('/') +
          ' MiB',
      );
    }
    await sleep(500);
  }
  const wallS = (Date.now() - t0) / 1000;
  const samples = await sampler.stop();
  const cpuAfter = await cpuOf(cpuPids);
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const redisEndMiB = await redisUsedMiB(redis);
  log(
    `run ${runId} ${status.status} in ${wallS.toFixed(1)} s: ${JSON.stringify({ completed: status.completed, failed: status.failed, total: status.total })}`,
  );

  // Exactly once: every uploaded key has one result in the API; executions from the workers'
  // own counters and the events stream (a second execution of a job would show in both).
  const paged = await allResults(stack.resultsUrl, runId, stack.token);
  const once = checkExactlyOnce(upload.keys, paged.items);
  const executions = await workerExecutions(services.workers);
  const eventsPublished = await redis.xlen(EVENTS_STREAM);
  const latency = latencySummary(paged.items.map((i) => i.finishedAt - i.submittedAt));
  const worker = await workerJobTimes(
    redis,
    paged.items.map((i) => i.jobId),
    t0,
  );
  const finished = paged.items.map((i) => i.finishedAt);
  const firstDone = Math.min(...finished);
  const lastDone = Math.max(...finished);
  for (const s of samples)
    s.processing = s.t * 1000 + t0 >= firstDone && s.t * 1000 + t0 <= lastDone;
  log(
    `results: ${JSON.stringify(once)}; executions ${JSON.stringify(executions)}; events ${eventsPublished}`,
  );

  // Results API under load, with the 20k results in place (the workers are idle by now).
  log(`results API: ${opts.httpSeconds} s per route, ${opts.httpConnections} connections`);
  const http = {
    status: await loadRoute(statusUrl, stack.token, {
      seconds: opts.httpSeconds,
      connections: opts.httpConnections,
    }),
    results: await loadRoute(`${statusUrl}/results?limit=100`, stack.token, {
      seconds: opts.httpSeconds,
      connections: opts.httpConnections,
    }),
  };

  http.presign100Ms = await presignCost(stack.store, stack.env.CAMFLOW_OUTPUT_BUCKET);
  const codes = await Promise.all(services.procs.map((p) => p.stop()));
  machine.loadAfter = loadavg();
  const cpu = Object.fromEntries(
    Object.keys(cpuPids).map((k) => [k, (cpuAfter[k] ?? 0) - (cpuBefore[k] ?? 0)]),
  );
  cpu.bench = (benchCpu.user + benchCpu.system) / 1e6;
  const figures = {
    machine,
    opts,
    command,
    upload: { seconds: upload.seconds },
    run: {
      runId,
      status: status.status,
      total: status.total,
      wallS,
      processingS: (lastDone - firstDone) / 1000,
      imagesPerSecond: paged.items.length / wallS,
      ...once,
      executions,
      eventsPublished,
      pages: paged.pages,
      exitCodes: codes,
    },
    latency,
    workerJobMs: latencySummary(worker.totals),
    stageMeansMs: worker.stageMeans,
    stageWindows: worker.stageWindows,
    windows: throughputWindows(finished),
    samples,
    workerNames,
    redis: { beforeMiB: redisBeforeMiB, endMiB: redisEndMiB },
    cpuSeconds: cpu,
    http,
  };
  await mkdir(dirname(FIGURES), { recursive: true });
  await writeFile(FIGURES, JSON.stringify(figures));
  await writeReport(figures, { docs: opts.docs });
}

/** The end of each service's log (they go with the temp dir), to see why a run failed. */
async function printServiceLogs() {
  if (!workDir) return;
  for (const name of (await readdir(workDir).catch(() => [])).filter((n) => n.endsWith('.log'))) {
    const text = await readFile(join(workDir, name), 'utf8').catch(() => '');
    const tail = text.trimEnd().split('\n').slice(-15).join('\n');
    if (tail) console.error(`--- ${name} (last lines)\n${tail}`);
  }
}

/** Completed/failed/retried job counts summed over the workers' Prometheus counters. */
async function workerExecutions(workers) {
  const sum = { completed: 0, failed: 0, retried: 0, perWorker: [] };
  for (const w of workers) {
    const text = await (await fetch(`${w.metricsUrl}/metrics`)).text();
    const mine = { completed: 0, failed: 0, retried: 0 };
    for (const m of text.matchAll(/^camflow_worker_jobs_total\{([^}]*)\} (\d+)/gm)) {
      const outcome = /outcome="(\w+)"/.exec(m[1])?.[1];
      if (outcome in mine) mine[outcome] += Number(m[2]);
    }
    for (const k of ['completed', 'failed', 'retried']) sum[k] += mine[k];
    sum.perWorker.push(mine.completed);
  }
  return sum;
}

try {
  if (process.argv.includes('--report-only')) {
    await writeReport(JSON.parse(await readFile(FIGURES, 'utf8')), { docs: opts.docs });
  } else {
    await main();
  }
} catch (err) {
  console.error(`bench:load failed: ${err instanceof Error ? err.stack : String(err)}`);
  await printServiceLogs();
  process.exitCode = 1;
} finally {
  await cleanup();
}
