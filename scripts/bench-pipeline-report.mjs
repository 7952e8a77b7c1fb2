// The pipeline benchmark's output: a compact table on stdout and a section of docs/BENCHMARKS.md
// between the pipeline markers (the rest of the file is left as it is).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- pipeline:start -->';
const END = '<!-- pipeline:end -->';

const f = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const mark = (ok) => (ok ? 'met' : 'missed');

/** How far apart the two engine-only rates are, relative to their mean. */
const engineSpread = (r) =>
  Math.abs(r.engineRuns[0].imagesPerSec - r.engineRuns[1].imagesPerSec) / r.engine.imagesPerSec;

/** The figures as table rows: [measure, value, target, verdict]. */
export function summaryRows(r) {
  const e = r.e2e;
  // Wall-clock ratios mean little when the machine's load moved the engine figure a lot.
  const wallMark = (ok) => (engineSpread(r) > 0.25 ? 'inconclusive (load changed)' : mark(ok));
  const rows = [
    [
      'engine only (in-process, batch ' + r.batchSize + ')',
      `${f(r.engine.imagesPerSec, 2)} img/s`,
      '',
      '',
    ],
    ['end to end, events first->last', `${f(e.eventImagesPerSec, 2)} img/s`, '', ''],
    [
      'end to end, POST -> run completed',
      `${f(e.wallImagesPerSec, 2)} img/s (${f(e.wallSeconds)} s)`,
      '',
      '',
    ],
    [
      'ratio end-to-end / engine (events)',
      f(r.ratio.events, 3),
      '>= 0.8',
      wallMark(r.ratio.events >= 0.8),
    ],
    [
      'ratio end-to-end / engine (wall)',
      f(r.ratio.wall, 3),
      '>= 0.8',
      wallMark(r.ratio.wall >= 0.8),
    ],
  ];
  if (r.enqueue) {
    rows.push(
      [
        `enqueue, ${r.enqueue.prefix.jobs} keys (prefix)`,
        `${f(r.enqueue.prefix.jobsPerSec, 0)} jobs/s (${f(r.enqueue.prefix.seconds)} s)`,
        '>= 3000 jobs/s',
        mark(r.enqueue.prefix.jobsPerSec >= 3000),
      ],
      [
        'Redis memory per queued job (prefix)',
        `${f(r.enqueue.prefix.bytesPerJob / 1024, 2)} KB`,
        '<= 1.5 KB',
        mark(r.enqueue.prefix.bytesPerJob <= 1536),
      ],
    );
  }
  rows.push([
    'CPU per image: engine only / whole stack',
    `${f(r.engine.cpuMsPerImage, 0)} / ${f(r.e2e.cpuMsPerImage.all, 0)} ms = ${f(r.ratio.cpu, 3)}`,
    '(>= 0.8)',
    mark(r.ratio.cpu >= 0.8),
  ]);
  rows.push([
    'worker CPU per image outside the engine (seed model)',
    `${f(r.e2e.cpuMsPerImage.worker - r.engine.cpuMsPerImage, 0)} ms`,
    '',
    '',
  ]);
  for (const [name, label] of [
    ['jpeg', '1024x1024 JPEG'],
    ['dicom', '2048x2500 16-bit DICOM'],
  ]) {
    const c = r.fast?.[name];
    if (!c) continue;
    rows.push(
      [
        `fast engine, ${label}: worker CPU per image outside the engine`,
        `${f(c.workerOutsideEngineMs, 1)} ms`,
        '<= 20 ms',
        mark(c.workerOutsideEngineMs <= 20),
      ],
      [
        `fast engine, ${label}: end to end / image path alone / engine alone`,
        `${f(c.e2e.eventImagesPerSec, 1)} / ${f(c.imagePath.imagesPerSec, 1)} / ${f(c.engine.imagesPerSec, 0)} img/s`,
        '',
        '',
      ],
    );
  }
  if (r.enqueue?.manifest) {
    rows.push([
      `enqueue, ${r.enqueue.manifest.jobs} keys (manifest, HEAD each)`,
      `${f(r.enqueue.manifest.jobsPerSec, 0)} jobs/s (${f(r.enqueue.manifest.seconds)} s)`,
      '',
      '',
    ]);
  }
  const l = r.latency;
  if (!l) return rows;
  rows.push(
    [
      `realtime latency behind ${l.bulk.jobs} bulk (median / max of ${l.jobs.length})`,
      `${f(l.medianMs, 0)} / ${f(l.maxMs, 0)} ms`,
      '',
      '',
    ],
    [`engine batch of ${r.batchSize} (in-process, this run)`, `${f(l.fullBatchMs, 0)} ms`, '', ''],
    [
      'latency / engine batch (median / max)',
      `${f(l.ratioMedian, 2)} / ${f(l.ratioMax, 2)}`,
      '<= 2',
      mark(l.ratioMax <= 2),
    ],
    [
      'worker engine batches during it (mean)',
      `${f(l.batchMs, 0)} ms, ${f(l.meanBatchSize, 1)} img`,
      '',
      '',
    ],
    [
      'latency / worker batch (median / max)',
      `${f(l.workerRatioMedian, 2)} / ${f(l.workerRatioMax, 2)}`,
      '<= 2',
      mark(l.workerRatioMax !== null && l.workerRatioMax <= 2),
    ],
  );
  return rows;
}

/** A plain-text table for the terminal. */
export function textTable(rows) {
  const head = ['measure', 'value', 'target', ''];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  return all
    .map((r) =>
      r
        .map((c, i) => String(c).padEnd(w[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const mdTable = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The markdown section (without the markers). */
export function markdown(r) {
  const stages = Object.keys(r.e2e.timings);
  return `## Pipeline (issue 4, "Performance")

Measured ${r.date} with \`${r.command}\` on ${r.machine.nproc} CPU cores (${r.machine.cpu}),
${r.machine.memGiB} GiB RAM, Node ${r.machine.node}. Load average (1 min) ${f(r.machine.loadStart, 2)} at
the start and ${f(r.machine.loadEnd, 2)} at the end: the machine is shared, so absolute figures
move with its load; the ratios compare measurements taken minutes apart in the same run.

Setup: its own redis-server and s3rver, the three services as \`camflow serve\` processes, one
worker with default settings (BATCH_SIZE ${r.batchSize}, WORKER_CONCURRENCY ${r.concurrency}, CPU).
Model: the seed's XRayClassifier (nf=64, 256x256 input, random weights), Grad-CAM at
\`resnet_blocks.4\`. Inputs: ${r.distinct} distinct synthetic 1024x1024 phantoms as grey JPEGs
(quality 90, about ${f(r.jpegKB, 0)} KB), uploaded under ${r.e2e.images} distinct keys.

${mdTable(['measure', 'value', 'target', ''], summaryRows(r))}

**End to end**: a run over ${r.e2e.images} keys after a warm-up run (model download and
Grad-CAM compile excluded, as in the engine figure). "events" = (completions - 1) / (last -
first \`finishedAt\`), the results API's throughput formula; "wall" = images / (POST /v1/runs ->
GET /v1/runs/:id says completed, polled every 100 ms). Engine only = \`Engine.explain\` on batches
of ${r.batchSize} of the same preprocessed images in the benchmark process, measured before
(${f(r.engineRuns[0].imagesPerSec, 2)} img/s) and after (${f(r.engineRuns[1].imagesPerSec, 2)} img/s) the
pipeline run; the ratio uses their mean. Worker engine batches during the run:
${r.e2e.batches} of mean ${f(r.e2e.meanBatchSize, 1)} images, ${f(r.e2e.batchMs, 0)} ms each
(engine only: ${f(r.engine.batchMs, 0)} ms per batch of ${r.batchSize}).

**CPU** (load-independent: other users' work on a shared machine changes wall-clock rates,
much less the CPU time a task needs): CPU ms per image, all threads, from \`process.cpuUsage\`
for the engine-only loop and \`/proc/<pid>/stat\` for each process of the stack during the run:
${Object.entries(r.e2e.cpuMsPerImage)
  .map(([k, v]) => `${k} ${f(v, 0)}`)
  .join(', ')}; engine only ${f(r.engine.cpuMsPerImage, 0)}. Their ratio is what the throughput
ratio would be on an idle machine if both kept every core busy.

Mean per-job stage times in the worker (ms, from the events' \`timings\`; \`queue\` = waiting for
a micro-batch, \`explain\` = the engine call of the job's batch, \`prepare\` = decode +
preprocess + waiting for an image thread):

${mdTable(stages, [stages.map((s) => f(r.e2e.timings[s], 0))])}

Largest: ${Object.entries(r.e2e.timings)
    .filter(([k]) => !['total', 'prepare'].includes(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${f(v, 0)} ms`)
    .join(', ')} per job (of ${f(r.e2e.timings.total, 0)} ms in all).

${r.enqueue ? enqueueText(r) : ''}${r.latency ? latencyText(r) : ''}${r.fast ? fastText(r) : ''}
${r.notes.length ? `\n${r.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
Raw figures: \`.camflow/bench-pipeline.json\`.
`;
}

/** Replaces the pipeline section of `file` (creating the file or the markers if missing). */
export function writeSection(file, body) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `${START}\n${END}\n`;
  const block = `${START}\n${body.trim()}\n${END}`;
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

function enqueueText(r) {
  return `**Enqueue**: \`POST /v1/runs\` with no worker running, timed until the run hash says
\`listingDone\` (polled every 50 ms); memory = Redis \`used_memory\` after - before, per job
(BullMQ job hash + index sets). The ${r.enqueue.prefix.jobs} keys are a prefix listed through
s3rver's ListObjectsV2 (the objects were seeded into s3rver's folder, not PUT one by one); the
ingest process is \`startIngest\` with the expansion high-water mark raised to 1,000,000
(\`scripts/bench-pipeline-ingest.mjs\`), since the default 50,000 pauses a run with no worker
at about 50k by design. Where the time goes: listing the same prefix alone through the S3 API
(1000 keys a page, no enqueueing) ran at ${f(r.enqueue.listing.keysPerSec, 0)} keys/s, and the
ingest's enqueue step alone (its \`camflow_ingest_enqueue_jobs_per_second\` gauge: index
writes + \`addBulk\` per page, smoothed) at ${f(r.enqueue.prefix.enqueueStepJobsPerSec, 0)} jobs/s;
ingest overlaps the two (the next page is listed while one is enqueued).${r.enqueue.manifest ? ` The manifest run (a CSV of ${r.enqueue.manifest.jobs} of the same keys) HEADs every key for its ETag (64 at a time), so its rate is bound by the S3 server's HEAD rate.` : ''} Obliterating the ${r.enqueue.prefix.jobs}-job queue took ${f(r.enqueue.obliterateSeconds, 2)} s.

`;
}

function latencyText(r) {
  const rt = r.latency.jobs;
  const rtStages = [...new Set(rt.flatMap((j) => Object.keys(j.timings)))];
  return `**Latency**: a bulk run over ${r.latency.bulk.jobs} real image keys (queued at
${f(r.latency.bulk.jobsPerSec, 0)} jobs/s while the worker ran), then, once the worker was busy
with it, ${rt.length} realtime jobs (\`POST /v1/jobs\`) one after another, each timed from the
request to its result in the Redis index. The bulk queue still held ${r.latency.bulkWaitingAfter}
waiting jobs afterwards. "Engine batch" = one batch of ${r.batchSize} through \`Engine.explain\`
in-process (the engine figure above); "worker batch" = the worker's
\`camflow_worker_stage_seconds{stage="batch"}\` mean over the same interval, whose batches held
${f(r.latency.meanBatchSize, 1)} images on average. Stage times (ms) of the realtime jobs:

${mdTable(
  ['job', 'latency ms', ...rtStages],
  rt.map((j, i) => [String(i + 1), f(j.latencyMs, 0), ...rtStages.map((s) => f(j.timings[s], 0))]),
)}

Bulk jobs of that run, mean stage times (ms): ${Object.entries(r.latency.bulkTimings)
    .map(([k, v]) => `${k} ${f(v, 0)}`)
    .join(', ')}.
`;
}

/** Issue 11: the fast engine's figures (engine alone, image path alone, end to end, CPU). */
function fastText(r) {
  const x = r.fast;
  const line = (name, label) => {
    const c = x[name];
    if (!c) return '';
    const cpu = c.e2e.cpuMsPerImage;
    return `| ${label} | ${c.images} | ${f(c.engine.imagesPerSec, 0)} | ${f(c.imagePath.imagesPerSec, 1)} | ${f(c.e2e.eventImagesPerSec, 1)} | ${f(c.engine.cpuMsPerImage, 1)} | ${f(c.imagePath.cpuMsPerImage, 1)} | ${f(cpu.worker, 1)} | ${f(c.workerOutsideEngineMs, 1)} | ${f(cpu.s3rver, 1)} / ${f(cpu.redis, 1)} / ${f(cpu.results, 1)} / ${f(cpu.ingest, 1)} |`;
  };
  const stages = (name) => {
    const c = x[name];
    if (!c) return '';
    return `\n${name === 'jpeg' ? 'JPEG' : 'DICOM'} jobs, mean stage times (ms): ${Object.entries(
      c.e2e.timings,
    )
      .map(([k, v]) => `${k} ${f(v, 1)}`)
      .join(', ')}; engine batches ${f(c.e2e.meanBatchSize, 1)} images, ${f(c.e2e.batchMs, 0)} ms.`;
  };
  return `**Fast engine** (issue 11, standing in for a GPU): ${x.model}, Grad-CAM at \`${x.layer}\`
(${x.align}), pushed as \`xray-fast@1\` to the same worker. Engine alone = \`Engine.explain\` on batches of
${r.batchSize} in the benchmark process; image path alone = the worker's \`ImagePool\` (its default
threads) preparing and rendering the same inputs with that model's CAMs, ${r.concurrency} in flight,
in the benchmark process (no S3, queue or engine); end to end = a run through the stack (events
formula). CPU ms per image: engine alone and image path alone from \`process.cpuUsage\`, the
stack's processes from /proc during the run; "outside the engine" = the worker's CPU per image
minus the engine-alone CPU per image.

| input | images | engine alone img/s | image path alone img/s | end to end img/s | engine CPU ms | image path CPU ms | worker CPU ms | worker outside the engine | s3rver / redis / results / ingest CPU ms |
|---|---|---|---|---|---|---|---|---|---|
${line('jpeg', '1024x1024 JPEG')}
${line('dicom', `2048x2500 16-bit DICOM (${f((x.dicom?.bytes ?? 0) / 2 ** 20, 1)} MiB)`)}
${stages('jpeg')}${stages('dicom')}

`;
}
