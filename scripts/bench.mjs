#!/usr/bin/env node
// `npm run bench`: camflow bench on the seed's full-size XRayClassifier (nf=64, 256x256, random
// weights) at batch 1 and 8, engine memory over 10k calls, and the seed's PyTorch method when
// Debian's torch is installed. Figures are ratios measured in one run; absolute numbers depend
// on the machine and its load.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'services/cli/bin/camflow.js');
const seconds = process.env.BENCH_SECONDS ?? '20';
const loadBefore = loadavg()[0];
const cache = join(root, '.camflow');
const model = join(cache, 'xray-nf64-256.onnx');
mkdirSync(cache, { recursive: true });
if (!existsSync(model)) {
  execFileSync(
    process.execPath,
    [cli, 'make-model', 'xray', '--nf', '64', '--size', '256', '--out', model],
    {
      stdio: 'inherit',
    },
  );
}

const camflow = (batch) => {
  process.stderr.write(`bench: batch ${batch}, ${seconds} s ...\n`);
  const out = execFileSync(
    process.execPath,
    [cli, 'bench', '--model', model, '--batch', String(batch), '--seconds', seconds, '--json'],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
};
const results = [camflow(1), camflow(8)];

// The seed's PyTorch hooks method, when Debian's python3-torch is there (CI does not need it).
const python = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
);
let seed;
if (python) {
  process.stderr.write(`bench: the seed method in PyTorch (${python}) ...\n`);
  const r = spawnSync(
    python,
    [
      '-m',
      'camflow_ref.bench_seed',
      '--nf',
      '64',
      '--size',
      '256',
      '--batch',
      '1',
      '8',
      '--seconds',
      seconds,
    ],
    { cwd: join(root, 'test/reference'), encoding: 'utf8' },
  );
  if (r.status === 0) seed = JSON.parse(r.stdout.trim().split('\n').pop());
  else
    process.stderr.write(
      `bench: seed benchmark failed: ${r.stderr.split('\n').slice(-3).join(' ')}\n`,
    );
} else {
  process.stderr.write(
    'bench: no python3 with torch (apt-get install python3-torch): skipping the seed comparison\n',
  );
}

process.stderr.write('bench: engine memory over 10,000 explain calls ...\n');
const memory = JSON.parse(
  execFileSync(process.execPath, ['--expose-gc', join(root, 'scripts/bench-memory.mjs')], {
    encoding: 'utf8',
  }).trim(),
);

const ms = (ips) => (1000 / ips).toFixed(1);
const lines = [
  '| batch | forward ms/img | Grad-CAM ms/img | ratio (Grad-CAM / forward) | seed PyTorch ms/img | speed-up vs seed |',
  '|---|---|---|---|---|---|',
];
for (const r of results) {
  const s = seed?.results.find((x) => x.batch === r.batch);
  lines.push(
    `| ${r.batch} | ${ms(r.forward.imagesPerSec)} | ${ms(r.gradcam.imagesPerSec)} | ${r.ratio.toFixed(3)} | ` +
      `${s ? s.msPerImage.toFixed(1) : 'n/a'} | ${s ? (r.gradcam.imagesPerSec / s.imagesPerSec).toFixed(1) + 'x' : 'n/a'} |`,
  );
}
const report = {
  model: 'XRayClassifier nf=64, 256x256, random weights',
  seconds: Number(seconds),
  camflow: results,
  seed: seed ?? null,
  memory,
};
writeFileSync(join(cache, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(
  `engine memory: RSS ${memory.rssAfterWarmupMB} MB after a ${memory.warmupCalls}-call warm-up, ` +
    `${memory.rssAfterMB} MB after ${memory.calls} more (growth ${memory.growthMB} MB, V8 heap ${memory.heapGrowthMB} MB)\n`,
);
process.stdout.write(`full figures: ${join(cache, 'bench.json')}\n`);

// The engine section of docs/BENCHMARKS.md (other sections belong to other benchmarks).
const doc = join(root, 'docs/BENCHMARKS.md');
const section = [
  '<!-- engine:start -->',
  '## Engine (issue 2, "Performance")',
  '',
  `Measured ${new Date().toISOString()} with \`BENCH_SECONDS=${seconds} npm run bench\` on ${cpus().length} CPU cores`,
  `(${cpus()[0]?.model.trim()}), Node ${process.version}; load average ${loadBefore.toFixed(2)} at the start and`,
  `${loadavg()[0].toFixed(2)} at the end. Model: the seed's XRayClassifier (nf=64, 256x256, random weights),`,
  "Grad-CAM at `resnet_blocks.4`. `camflow bench` interleaves the unmodified model's forward and the",
  'compiled Grad-CAM graph in one process on the same inputs, so the ratio is robust to load; the',
  "seed's PyTorch method (forward + full backward with hooks, Debian's torch) ran right after, in",
  'another process, so its comparison is not.',
  '',
  ...lines,
  '',
  `Engine memory: RSS ${memory.rssAfterWarmupMB} MB after a ${memory.warmupCalls}-call warm-up, ${memory.rssAfterMB} MB after`,
  `${memory.calls} more explain calls (growth ${memory.growthMB} MB; V8 heap ${memory.heapGrowthMB} MB).`,
  '<!-- engine:end -->',
].join('\n');
const old = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
const marked = /<!-- engine:start -->[\s\S]*?<!-- engine:end -->/;
const next = marked.test(old) ? old.replace(marked, section) : `${section}\n\n${old}`;
writeFileSync(doc, next);
process.stdout.write(`engine section written to ${doc}\n`);
