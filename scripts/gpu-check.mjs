// `npm run gpu-check` (through scripts/gpu-check.sh), per execution provider (cpu, webgpu,
// cuda; GPU_CHECK_PROVIDERS to choose):
//   1. the engine on the seed's full-size model (nf=64, 256x256, random weights, built here):
//      Grad-CAM images/s at batch 1 and 8;
//   2. CAM parity against CPU on the golden models (max difference of the normalised CAMs);
//   3. issue 11's fast-engine case (the reference nf=8 model on 1024x1024 JPEG phantoms): the
//      engine alone, the worker's job code end to end in one process (image threads, micro-
//      batcher, engine thread on the provider; no Redis or S3, which the GPU machine lacks), and
//      the image path alone; CAM parity of the provider against CPU on those images.
// Runs from the repository (node_modules) or from the bundle scripts/gpu-bundle.mjs builds
// (GPU_CHECK_DATA = the bundle's folder). Figures go to stdout and to gpu-check.json in
// GPU_CHECK_OUT (else $OUT, else .camflow).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '@camflow/engine';
import { npyToFloat32, parseCard } from '@camflow/imaging';
import { buildXRayClassifier, encodeModel } from '@camflow/onnx';
import { engineCams, imagePathAlone, workerInProcess } from './bench-pipeline-fast.mjs';
import { phantomJpegs } from './bench-pipeline-fixtures.mjs';

const data = process.env.GPU_CHECK_DATA ?? fileURLToPath(new URL('..', import.meta.url));
const outDir = process.env.GPU_CHECK_OUT ?? process.env.OUT ?? join(data, '.camflow');
mkdirSync(outDir, { recursive: true });
const seconds = Number(process.env.GPU_CHECK_SECONDS ?? 5);
const images = Number(process.env.GPU_CHECK_IMAGES ?? 96);
const providers = (process.env.GPU_CHECK_PROVIDERS ?? 'cpu,webgpu,cuda').split(',');
const quiet = { warn: () => {} };
const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: availableParallelism(),
  loadStart: loadavg()[0],
  providers: {},
};
const save = () =>
  writeFileSync(join(outDir, 'gpu-check.json'), `${JSON.stringify(report, null, 2)}\n`);
const say = (s) => process.stdout.write(`${s}\n`);

/** Largest difference of two stacks of CAMs, each normalised by its own maximum. */
function camDifference(a, b, per) {
  let worst = 0;
  for (let o = 0; o < a.length; o += per) {
    let ma = 1e-12;
    let mb = 1e-12;
    for (let i = 0; i < per; i++) {
      ma = Math.max(ma, a[o + i]);
      mb = Math.max(mb, b[o + i]);
    }
    for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(a[o + i] / ma - b[o + i] / mb));
  }
  return worst;
}

/** Grad-CAM images/s of `engine` on random inputs of batch `n`, for `seconds`. */
async function gradcamRate(engine, n) {
  const data = new Float32Array(n * 3 * 256 * 256).map((_, i) => Math.sin(i) * 0.5);
  const input = { data, dims: [n, 3, 256, 256] };
  const opts = { layer: 'resnet_blocks.4', target: 'predicted' };
  await engine.explain(input, opts);
  const t0 = performance.now();
  let done = 0;
  while (done < 2 || performance.now() - t0 < seconds * 1000) {
    await engine.explain(input, opts);
    done++;
  }
  return (done * n * 1000) / (performance.now() - t0);
}

const seedModel = encodeModel(buildXRayClassifier({ nf: 64, size: 256 }));
const goldens = join(data, 'test/fixtures/goldens');
const npy = (p) => npyToFloat32(new Uint8Array(readFileSync(join(goldens, p))));
const fastDir = join(data, 'test/fixtures/models/xray-clean');
const fastOnnx = new Uint8Array(readFileSync(join(fastDir, 'model.onnx')));
const fastCard = parseCard(JSON.parse(readFileSync(join(fastDir, 'model.json'), 'utf8')));
const jpegs = (await phantomJpegs(join(data, '.camflow/bench-pipeline'), 4, 2026)).map(
  (j) => j.bytes,
);
let cpuCams;

for (const provider of providers) {
  const r = { provider };
  report.providers[provider] = r;
  try {
    const engine = Engine.load(seedModel, {
      executionProvider: provider,
      maxBatch: 8,
      logger: quiet,
    });
    r.ranOn = await engine.provider();
    r.seedGradcam = { batch1: await gradcamRate(engine, 1), batch8: await gradcamRate(engine, 8) };
    await engine.close();
    say(
      `${provider} (ran on ${r.ranOn}): seed Grad-CAM ${r.seedGradcam.batch1.toFixed(1)} img/s at batch 1, ${r.seedGradcam.batch8.toFixed(1)} at batch 8`,
    );
    if (provider !== 'cpu') {
      r.parity = {};
      for (const name of ['xray', 'resnet', 'mobilenet']) {
        if (!existsSync(join(goldens, name, 'model.onnx'))) continue;
        const bytes = new Uint8Array(readFileSync(join(goldens, name, 'model.onnx')));
        const x = npy(`${name}/input.npy`);
        const input = { data: x.data, dims: x.shape };
        const cpu = await Engine.load(bytes).explain(input);
        const gpu = Engine.load(bytes, { executionProvider: provider, logger: quiet });
        const other = await gpu.explain(input);
        const per = cpu.cams.dims[1] * cpu.cams.dims[2];
        r.parity[name] = camDifference(cpu.cams.data, other.cams.data, per);
        await gpu.close();
        say(
          `  parity ${name}: max normalised CAM difference vs cpu ${r.parity[name].toExponential(2)}`,
        );
      }
    }
    const e = await engineCams({
      onnx: fastOnnx,
      card: fastCard,
      inputs: jpegs,
      batchSize: 8,
      seconds,
      layer: fastCard.layer,
      provider,
    });
    const flat = (cams) => Float32Array.from(cams.flatMap((c) => Array.from(c.data)));
    if (provider === 'cpu') cpuCams = e.cams;
    else if (cpuCams) {
      const per = cpuCams[0].width * cpuCams[0].height;
      r.fastParity = camDifference(flat(cpuCams), flat(e.cams), per);
    }
    r.fastEngine = e.engine;
    r.fastWorker = await workerInProcess({
      onnx: fastOnnx,
      card: fastCard,
      inputs: jpegs,
      count: images,
      concurrency: 16,
      batchSize: 8,
      provider,
    });
    say(
      `  fast engine (nf=8, 1024x1024 JPEGs): engine alone ${e.engine.imagesPerSec.toFixed(0)} img/s, ` +
        `worker in one process ${r.fastWorker.imagesPerSec.toFixed(1)} img/s` +
        (r.fastParity !== undefined ? `, CAM parity vs cpu ${r.fastParity.toExponential(2)}` : ''),
    );
  } catch (err) {
    r.error = String(err?.stack ?? err);
    say(`${provider}: failed: ${String(err?.message ?? err).split('\n')[0]}`);
  }
  save();
}
if (cpuCams) {
  report.imagePath = await imagePathAlone({
    inputs: jpegs,
    cams: cpuCams,
    card: fastCard,
    count: images,
    concurrency: 16,
  });
  say(
    `image path alone (${report.imagePath.threads} image threads): ${report.imagePath.imagesPerSec.toFixed(1)} img/s, ${report.imagePath.cpuMsPerImage.toFixed(1)} CPU ms/img`,
  );
}
report.loadEnd = loadavg()[0];
save();
say(`figures in ${join(outDir, 'gpu-check.json')}`);
