#!/usr/bin/env node
// `npm run bench:pipeline`: issue 4's performance targets measured on this machine, with its own
// redis-server, s3rver and the three services as processes:
//   1. end-to-end images/s (S3 in -> overlays out -> events -> results indexed) for 1024x1024
//      JPEGs and the seed-size model, against Engine.explain alone in the same run;
//   2. enqueueing a 100k-key source (jobs/s, Redis bytes per queued job), no worker running;
//   3. a realtime job's latency while a 10k bulk run is queued, against one batch's time.
// Prints a table and writes the figures between the pipeline markers of docs/BENCHMARKS.md.
//   4. (issue 11) a "fast engine" standing in for a GPU: the reference nf=8 model, end to end on
//      the same JPEGs and on 2048x2500 16-bit DICOM films, against the engine alone and the
//      worker's image path alone; the worker's CPU per image outside the engine.
// Sizes: BENCH_IMAGES (300), BENCH_DISTINCT (16), BENCH_ENQUEUE_KEYS (100000; 0 = skip),
// BENCH_MANIFEST_KEYS (10000; 0 = skip), BENCH_BULK_KEYS (10000; 0 = skip the latency part),
// BENCH_REALTIME (5), BENCH_ENGINE_SECONDS (12), BENCH_FAST_IMAGES (300; 0 = skip),
// BENCH_DICOM (24; 0 = skip), BENCH_TIMEOUT_S (900). BENCH_KEEP=1 keeps the temp dir and logs;
// BENCH_DOCS=0 leaves docs/BENCHMARKS.md alone; BENCH_JSON names the raw figures' file.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@camflow/config';
import { parseCard, seedCardJson } from '@camflow/imaging';
import { pushModel } from '@camflow/ingest';
import { embeddedS3Env, S3Store } from '@camflow/storage';
import { Redis } from 'ioredis';
import { engineCams, imagePathAlone } from './bench-pipeline-fast.mjs';
import {
  dicomFilms,
  md5,
  phantomJpegs,
  seededKey,
  seedObjects,
  uploadImages,
} from './bench-pipeline-fixtures.mjs';
import {
  apiClient,
  bulkWaiting,
  cleanRun,
  endToEnd,
  engineOnly,
  enqueueRun,
  listingRate,
  obliterateBulk,
  realtimeLatency,
  until,
} from './bench-pipeline-measure.mjs';
import { markdown, summaryRows, textTable, writeSection } from './bench-pipeline-report.mjs';
import {
  Cleanup,
  freePort,
  logTail,
  startBackends,
  startProcess,
  startService,
  waitHealthy,
} from './bench-pipeline-stack.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(root, '.camflow');
const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number`);
  return v;
};
const sizes = {
  images: int('BENCH_IMAGES', 300),
  distinct: int('BENCH_DISTINCT', 16),
  enqueueKeys: int('BENCH_ENQUEUE_KEYS', 100_000),
  manifestKeys: int('BENCH_MANIFEST_KEYS', 10_000),
  bulkKeys: int('BENCH_BULK_KEYS', 10_000),
  realtime: int('BENCH_REALTIME', 5),
  engineSeconds: int('BENCH_ENGINE_SECONDS', 12),
  fastImages: int('BENCH_FAST_IMAGES', 300),
  dicom: int('BENCH_DICOM', 24),
  timeoutS: int('BENCH_TIMEOUT_S', 900),
};
const defaults = loadConfig({});
const { BATCH_SIZE: batchSize, WORKER_CONCURRENCY: concurrency } = loadConfig(process.env);
const BUCKET = 'data';
const MODEL = 'xray-bench@1';
const LAYER = 'resnet_blocks.4';
const started = Date.now();
const say = (s) =>
  process.stderr.write(`bench [${((Date.now() - started) / 1000).toFixed(0)} s] ${s}\n`);

const machine = {
  nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
  cpu:
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
    cpus()[0]?.model ??
    'unknown',
  memGiB: Math.round(totalmem() / 2 ** 30),
  freeGiBStart: Math.round(freemem() / 2 ** 30),
  node: process.version,
  loadStart: loadavg()[0],
};
const overrides = Object.keys(process.env)
  .filter((k) => k.startsWith('BENCH_') || k === 'BATCH_SIZE' || k === 'WORKER_CONCURRENCY')
  .sort()
  .map((k) => `${k}=${process.env[k]} `)
  .join('');
const command =
  overrides +
  (process.env.npm_lifecycle_event === 'bench:pipeline'
    ? 'npm run bench:pipeline'
    : 'node scripts/bench-pipeline.mjs');

const cleanup = new Cleanup();
let dir;
const onSignal = (signal) => {
  say(`${signal}: stopping and cleaning up...`);
  void cleanup.run().then(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
const watchdog = setTimeout(() => {
  say(`over ${sizes.timeoutS} s: giving up`);
  void cleanup.run().then(() => process.exit(1));
}, sizes.timeoutS * 1000);
watchdog.unref();

/** The seed-size model (shared with `npm run bench`) and its card in `dir`. */
async function model() {
  const onnxPath = join(cacheDir, 'xray-nf64-256.onnx');
  if (!existsSync(onnxPath)) {
    say('making the seed-size model (nf=64, 256x256)...');
    execFileSync(
      process.execPath,
      [
        join(root, 'services/cli/bin/camflow.js'),
        'make-model',
        'xray',
        '--nf',
        '64',
        '--size',
        '256',
        '--out',
        onnxPath,
      ],
      { stdio: 'inherit' },
    );
  }
  const cardJson = { ...seedCardJson, name: 'xray-bench', version: '1', layer: LAYER };
  const cardPath = join(dir, 'model.json');
  await writeFile(cardPath, JSON.stringify(cardJson));
  return {
    onnxPath,
    cardPath,
    card: parseCard(cardJson),
    bytes: new Uint8Array(await readFile(onnxPath)),
  };
}

/**
 * Issue 11's fast engine: the reference nf=8 model (test/fixtures/models/xray-clean, its card's
 * layer and alignment) pushed as xray-fast@1; end to end on the e2e JPEG keys and on DICOM films,
 * the engine alone, and the worker's image path alone, each on the same inputs.
 */
async function fastEngineCase(ctx, jpegs) {
  const dirModel = join(root, 'test/fixtures/models/xray-clean');
  const cardJson = JSON.parse(await readFile(join(dirModel, 'model.json'), 'utf8'));
  const fastCard = { ...cardJson, name: 'xray-fast', version: '1' };
  const cardPath = join(dir, 'fast-model.json');
  await writeFile(cardPath, JSON.stringify(fastCard));
  const onnxPath = join(dirModel, 'model.onnx');
  await pushModel(ctx.store, ctx.config, {
    onnxPath,
    cardPath,
    name: 'xray-fast',
    version: '1',
  });
  const card = parseCard(fastCard);
  const onnx = new Uint8Array(await readFile(onnxPath));
  const fctx = { ...ctx, model: 'xray-fast@1' };
  const concurrency = ctx.concurrency;
  const out = { model: 'xray-clean (nf=8, 256x256)', layer: card.layer, align: card.align };
  say('fast engine: warm-up run...');
  await endToEnd(fctx, 'warmup/', ctx.batchSize);
  const cases = [];
  if (sizes.fastImages > 0)
    cases.push({
      name: 'jpeg',
      inputs: jpegs.map((j) => j.bytes),
      prefix: 'e2e/',
      count: Math.min(sizes.fastImages, sizes.images),
    });
  if (sizes.dicom > 0) {
    say(`fast engine: ${sizes.dicom} DICOM films (2048x2500, 16-bit, uncompressed)...`);
    const films = await dicomFilms(jpegs, Math.min(4, sizes.dicom));
    await uploadImages(
      ctx.store,
      ctx.bucket,
      Array.from({ length: sizes.dicom }, (_, i) => `dicom/film-${String(i).padStart(4, '0')}.dcm`),
      films,
      4,
    );
    cases.push({
      name: 'dicom',
      inputs: films.map((f) => f.bytes),
      prefix: 'dicom/',
      count: sizes.dicom,
      bytes: films[0].bytes.byteLength,
    });
  }
  for (const c of cases) {
    say(`fast engine, ${c.name}: engine only...`);
    const e = await engineCams({
      onnx,
      card,
      inputs: c.inputs,
      batchSize: ctx.batchSize,
      seconds: Math.max(4, sizes.engineSeconds / 2),
      layer: card.layer,
    });
    say(
      `  ${e.engine.imagesPerSec.toFixed(1)} img/s, ${e.engine.cpuMsPerImage.toFixed(1)} CPU ms/img; end to end, ${c.count} images...`,
    );
    const e2e = await endToEnd(fctx, c.prefix, c.count);
    say(`  ${e2e.eventImagesPerSec.toFixed(2)} img/s (events); image path alone...`);
    const path = await imagePathAlone({
      inputs: c.inputs,
      cams: e.cams,
      card,
      count: c.count,
      concurrency,
    });
    say(`  ${path.imagesPerSec.toFixed(2)} img/s, ${path.cpuMsPerImage.toFixed(1)} CPU ms/img`);
    out[c.name] = {
      images: c.count,
      distinct: c.inputs.length,
      bytes: c.bytes,
      engine: e.engine,
      e2e,
      imagePath: path,
      workerOutsideEngineMs: e2e.cpuMsPerImage.worker - e.engine.cpuMsPerImage,
    };
  }
  return out;
}

async function main() {
  say(
    `load average ${machine.loadStart.toFixed(2)} on ${machine.nproc} cores; sizes ${JSON.stringify(sizes)}`,
  );
  await mkdir(cacheDir, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'camflow-bench-pipeline-'));
  if (process.env.BENCH_KEEP !== '1') cleanup.push(() => rm(dir, { recursive: true, force: true }));
  else cleanup.push(async () => say(`kept ${dir}`));
  const notes = [];

  const m = await model();
  say(
    `phantoms: ${sizes.distinct} distinct 1024x1024 JPEGs (cached in .camflow/bench-pipeline)...`,
  );
  const jpegs = await phantomJpegs(join(cacheDir, 'bench-pipeline'), sizes.distinct, 2026);
  const jpegKB = jpegs.reduce((s, j) => s + j.bytes.byteLength, 0) / jpegs.length / 1024;

  const { redis: redisServer, s3 } = await startBackends(dir, cleanup);
  const token = `bench-${randomBytes(12).toString('hex')}`;
  const ports = { ingest: await freePort(), results: await freePort(), metrics: await freePort() };
  const env = {
    REDIS_URL: redisServer.url,
    ...embeddedS3Env(s3.endpoint),
    CAMFLOW_OUTPUT_BUCKET: defaults.CAMFLOW_OUTPUT_BUCKET,
    CAMFLOW_MODEL_BUCKET: defaults.CAMFLOW_MODEL_BUCKET,
    INGEST_PORT: String(ports.ingest),
    RESULTS_PORT: String(ports.results),
    WORKER_METRICS_PORT: String(ports.metrics),
    CAMFLOW_CACHE_DIR: join(dir, 'model-cache'),
    CAMFLOW_API_TOKENS: JSON.stringify({ [token]: { scopes: ['admin'], buckets: ['*'] } }),
  };
  const config = loadConfig(env);
  const store = S3Store.fromConfig(config);
  cleanup.push(async () => store.close());
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  cleanup.push(() => redis.quit().catch(() => {}));
  for (const b of [BUCKET, config.CAMFLOW_OUTPUT_BUCKET, config.CAMFLOW_MODEL_BUCKET]) {
    await store.ensureBucket(b);
  }
  await pushModel(store, config, {
    onnxPath: m.onnxPath,
    cardPath: m.cardPath,
    name: 'xray-bench',
    version: '1',
  });

  say(`uploading ${sizes.images} + ${batchSize} warm-up + ${sizes.realtime} realtime images...`);
  const pad = (i) => String(i).padStart(5, '0');
  await uploadImages(
    store,
    BUCKET,
    Array.from({ length: sizes.images }, (_, i) => `e2e/img-${pad(i)}.jpg`),
    jpegs,
  );
  await uploadImages(
    store,
    BUCKET,
    Array.from({ length: batchSize }, (_, i) => `warmup/img-${pad(i)}.jpg`),
    jpegs,
  );
  const realtimeKeys = Array.from(
    { length: sizes.realtime },
    (_, i) => `realtime/rt-${pad(i)}.jpg`,
  );
  await uploadImages(store, BUCKET, realtimeKeys, [...jpegs].reverse());

  say(
    `seeding ${sizes.enqueueKeys} small objects and ${sizes.bulkKeys} image keys into s3rver's folder...`,
  );
  const s3dir = join(dir, 's3');
  await seedObjects(s3dir, BUCKET, 'enqueue/', sizes.enqueueKeys, 'png', (i) => ({
    body: `bench object ${i}\n`,
  }));
  const linkDir = join(dir, 'images');
  await mkdir(linkDir);
  const sources = [];
  for (const [i, j] of jpegs.entries()) {
    const file = join(linkDir, `${i}.jpg`);
    await writeFile(file, j.bytes);
    sources.push({ link: file, md5: md5(j.bytes) });
  }
  await seedObjects(
    s3dir,
    BUCKET,
    'bulk/',
    sizes.bulkKeys,
    'jpg',
    (i) => sources[i % sources.length],
  );
  const probe = seededKey('bulk/', 0, 'jpg');
  if (sizes.bulkKeys > 0 && (await store.head(BUCKET, probe))?.etag !== sources[0].md5)
    throw new Error(`seeded ${probe} is not served by s3rver`);

  const api = apiClient(token);
  const ingestUrl = `http://127.0.0.1:${ports.ingest}`;
  const resultsUrl = `http://127.0.0.1:${ports.results}`;
  const ctx = {
    store,
    config,
    concurrency,
    redis,
    api,
    ingestUrl,
    resultsUrl,
    model: MODEL,
    bucket: BUCKET,
    batchSize,
    token,
    workerMetrics: `http://127.0.0.1:${ports.metrics}/metrics`,
  };
  const results = startService('results', env, dir, cleanup);
  await waitHealthy(`${resultsUrl}/healthz`, results);

  let prefix;
  let manifest;
  let listing;
  let obliterateSeconds;
  if (sizes.enqueueKeys > 0) {
    // 2. Enqueue, no worker: ingest with the high-water mark raised (see bench-pipeline-ingest.mjs).
    const bigIngest = startProcess(
      'ingest (high-water 1M)',
      [join(root, 'scripts/bench-pipeline-ingest.mjs'), '1000000'],
      env,
      join(dir, 'ingest-enqueue.log'),
      cleanup,
    );
    await waitHealthy(`${ingestUrl}/healthz`, bigIngest);
    say(`enqueue: a ${sizes.enqueueKeys}-key prefix, no worker...`);
    prefix = await enqueueRun(ctx, { bucket: BUCKET, prefix: 'enqueue/' });
    if (prefix.waiting !== sizes.enqueueKeys)
      notes.push(`enqueue: ${prefix.waiting} jobs waiting, expected ${sizes.enqueueKeys}`);
    say(
      `  ${prefix.jobs} jobs in ${prefix.seconds.toFixed(1)} s = ${prefix.jobsPerSec.toFixed(0)} jobs/s, ${(prefix.bytesPerJob / 1024).toFixed(2)} KB/job; obliterating...`,
    );
    obliterateSeconds = await obliterateBulk(redis);
    await cleanRun(redis, prefix.runId);
    say('  the same prefix listed alone through the S3 API...');
    listing = await listingRate(store, BUCKET, 'enqueue/');
    say(
      `  ${listing.keysPerSec.toFixed(0)} keys/s; ingest's enqueue step alone ${prefix.enqueueStepJobsPerSec.toFixed(0)} jobs/s`,
    );
    if (sizes.manifestKeys > 0) {
      const keys = Array.from({ length: Math.min(sizes.manifestKeys, sizes.enqueueKeys) }, (_, i) =>
        seededKey('enqueue/', i, 'png'),
      );
      await store.put(BUCKET, 'manifests/enqueue.csv', `key\n${keys.join('\n')}\n`, 'text/csv');
      say(`enqueue: a ${keys.length}-key manifest, no worker...`);
      manifest = await enqueueRun(ctx, { bucket: BUCKET, manifest: 'manifests/enqueue.csv' });
      say(
        `  ${manifest.jobs} jobs in ${manifest.seconds.toFixed(1)} s = ${manifest.jobsPerSec.toFixed(0)} jobs/s`,
      );
      await obliterateBulk(redis);
      await cleanRun(redis, manifest.runId);
    }
    await bigIngest.stop();
  }

  // The real services for the rest.
  const ingest = startService('ingest', env, dir, cleanup);
  const worker = startService('worker', env, dir, cleanup);
  await waitHealthy(`${ingestUrl}/healthz`, ingest);
  await waitHealthy(`http://127.0.0.1:${ports.metrics}/readyz`, worker, 120_000);
  ctx.pids = {
    worker: worker.child.pid,
    ingest: ingest.child.pid,
    results: results.child.pid,
    s3rver: s3.process.pid,
    redis: redisServer.process.pid,
  };
  say('warm-up run (model download and Grad-CAM compile in the worker)...');
  await endToEnd(ctx, 'warmup/', batchSize);

  // 1. Engine alone, then the pipeline, then the engine again (the machine is shared).
  const engineArgs = {
    onnx: m.bytes,
    card: m.card,
    jpegs,
    batchSize,
    seconds: sizes.engineSeconds,
    layer: LAYER,
  };
  say(`engine only, batches of ${batchSize}, ${sizes.engineSeconds} s...`);
  const engine1 = await engineOnly(engineArgs);
  say(`  ${engine1.imagesPerSec.toFixed(2)} img/s (${engine1.batchMs.toFixed(0)} ms a batch)`);
  say(`end to end: ${sizes.images} images...`);
  const e2e = await endToEnd(ctx, 'e2e/', sizes.images);
  say(
    `  ${e2e.eventImagesPerSec.toFixed(2)} img/s (events), ${e2e.wallImagesPerSec.toFixed(2)} img/s (wall ${e2e.wallSeconds.toFixed(1)} s)`,
  );
  say('engine only again...');
  const engine2 = await engineOnly(engineArgs);
  say(`  ${engine2.imagesPerSec.toFixed(2)} img/s`);
  const engine = {
    imagesPerSec: (engine1.imagesPerSec + engine2.imagesPerSec) / 2,
    batchMs: (engine1.batchMs + engine2.batchMs) / 2,
    cpuMsPerImage: (engine1.cpuMsPerImage + engine2.cpuMsPerImage) / 2,
  };

  // 4. The fast engine (issue 11): what the worker delivers when the engine costs little.
  const fast =
    sizes.fastImages > 0 || sizes.dicom > 0 ? await fastEngineCase(ctx, jpegs) : undefined;

  // 3. Realtime latency behind a bulk backlog.
  let latency;
  if (sizes.bulkKeys > 0) {
    say(`latency: a ${sizes.bulkKeys}-image bulk run, then ${sizes.realtime} realtime jobs...`);
    const lat = await realtimeLatency(ctx, 'bulk/', realtimeKeys);
    const lats = lat.jobs.map((j) => j.latencyMs).sort((a, b) => a - b);
    const medianMs = lats[Math.floor(lats.length / 2)];
    const maxMs = lats.at(-1);
    // "One batch": a full batch of BATCH_SIZE through the engine (measured above, same run), and
    // for comparison the worker's own engine batches during the interval (often smaller).
    latency = {
      ...lat,
      medianMs,
      maxMs,
      fullBatchMs: engine.batchMs,
      ratioMedian: medianMs / engine.batchMs,
      ratioMax: maxMs / engine.batchMs,
      workerRatioMedian: lat.batchMs ? medianMs / lat.batchMs : null,
      workerRatioMax: lat.batchMs ? maxMs / lat.batchMs : null,
    };
    if (lat.jobs.some((j) => j.type !== 'job.completed')) notes.push('a realtime job failed');
    say(
      `  median ${medianMs.toFixed(0)} ms, max ${maxMs.toFixed(0)} ms; batch ${lat.batchMs?.toFixed(0)} ms`,
    );
  }
  say('stopping the worker, obliterating the bulk queue...');
  await worker.stop();
  if (latency) {
    latency.bulkLeftAtStop = await bulkWaiting(redis);
    latency.bulkObliterateSeconds = await obliterateBulk(redis);
    await cleanRun(redis, latency.bulk.runId);
    await until('bulk queue empty', async () =>
      (await bulkWaiting(redis)) === 0 ? true : undefined,
    );
  }

  const spread = Math.abs(engine1.imagesPerSec - engine2.imagesPerSec) / engine.imagesPerSec;
  if (spread > 0.25) {
    const lo = e2e.eventImagesPerSec / Math.max(engine1.imagesPerSec, engine2.imagesPerSec);
    const hi = e2e.eventImagesPerSec / Math.min(engine1.imagesPerSec, engine2.imagesPerSec);
    notes.push(
      `The two engine-only measurements differ by ${(spread * 100).toFixed(0)}% (the machine's load changed): against either one alone the events ratio would be ${lo.toFixed(2)} to ${hi.toFixed(2)}.`,
    );
  }
  const report = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command,
    machine: { ...machine, loadEnd: loadavg()[0] },
    sizes,
    batchSize,
    concurrency,
    distinct: sizes.distinct,
    jpegKB,
    engine,
    engineRuns: [engine1, engine2],
    e2e,
    ratio: {
      events: e2e.eventImagesPerSec / engine.imagesPerSec,
      wall: e2e.wallImagesPerSec / engine.imagesPerSec,
      // Load-independent: CPU per image of the engine alone over that of the whole stack.
      cpu: engine.cpuMsPerImage / e2e.cpuMsPerImage.all,
    },
    enqueue: prefix ? { prefix, manifest, listing, obliterateSeconds } : undefined,
    latency,
    fast,
    notes,
    seconds: (Date.now() - started) / 1000,
  };
  const json = process.env.BENCH_JSON ?? join(cacheDir, 'bench-pipeline.json');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  if (process.env.BENCH_DOCS !== '0')
    writeSection(join(root, 'docs/BENCHMARKS.md'), markdown(report));
  process.stdout.write(`\n${textTable(summaryRows(report))}\n\n`);
  process.stdout.write(
    `load average ${machine.loadStart.toFixed(2)} -> ${report.machine.loadEnd.toFixed(2)} on ${machine.nproc} cores; ` +
      `${report.seconds.toFixed(0)} s in all; raw figures in ${json}${process.env.BENCH_DOCS !== '0' ? ' and docs/BENCHMARKS.md' : ''}\n`,
  );
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: failed: ${err.stack ?? err}\n`);
  if (dir) {
    for (const log of ['results', 'ingest-enqueue', 'ingest', 'worker']) {
      const file = join(dir, `${log}.log`);
      if (existsSync(file)) process.stderr.write(`--- ${log}.log (tail)\n${logTail(file, 12)}\n`);
    }
  }
  process.exitCode = 1;
} finally {
  await cleanup.run();
  clearTimeout(watchdog);
}
