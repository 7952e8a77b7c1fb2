#!/usr/bin/env node
// Compares the worker's image path of two checkouts (issue 11's before/after figures): run it
// alternately with each checkout's root, in the same minutes, since the machine is shared.
//   node scripts/bench-image-ab.mjs <checkout root> [jpeg|dicom] [images]
// Prints one JSON line: CPU ms per image of decode, preprocess (the seed card with the reference
// models' layer and alignment) and render (as that checkout's worker renders: its outputs.ts
// defaults when it has them, else the library's) in this thread (`process.cpuUsage`), then the
// same checkout's ImagePool doing prepare + render with 8 in flight: images/s and CPU ms per
// image. Inputs: the pipeline benchmark's 1024x1024 JPEG phantoms, or 2048x2500 16-bit DICOM
// films; a 16x16 CAM on a receptive-field grid.
import { fileURLToPath } from 'node:url';
import { dicomFilms, phantomJpegs } from './bench-pipeline-fixtures.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const kind = process.argv[3] ?? 'jpeg';
const count = Number(process.argv[4] ?? (kind === 'jpeg' ? 32 : 6));
const im = await import(`${root}/libs/imaging/dist/index.js`);
const { ImagePool } = await import(`${root}/services/worker/dist/image-work.js`);
let options = {};
try {
  const o = await import(`${root}/services/worker/dist/outputs.js`);
  options = o.renderOptions(o.DEFAULT_OUTPUTS);
} catch {
  // An older checkout: the library's defaults are what its worker rendered.
}
const card = im.parseCard({
  ...im.seedCardJson,
  layer: 'resnet_blocks.3',
  align: 'receptive-field',
});
const cam = {
  width: 16,
  height: 16,
  data: Float32Array.from({ length: 256 }, (_, i) => Math.max(0, Math.sin(i * 0.37) + 0.3)),
  grid: { origin: [7.5, 7.5], stride: [16, 16] },
};
const here = fileURLToPath(new URL('..', import.meta.url));
const jpegs = await phantomJpegs(`${here}/.camflow/bench-pipeline`, 4, 2026);
const files =
  kind === 'jpeg' ? jpegs.map((j) => j.bytes) : (await dicomFilms(jpegs, 2)).map((f) => f.bytes);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const n = Math.max(2, Math.ceil(count / 2));
async function perImage(fn) {
  for (let i = 0; i < 2; i++) await fn(i);
  const c0 = cpu();
  for (let i = 0; i < n; i++) await fn(i);
  return (cpu() - c0) / n;
}
const k = (i) => i % files.length;
// Fresh copies: libvips must not answer from its cache for a buffer it has seen.
const decoded = await Promise.all(files.map((b) => im.decodeImage(b.slice())));
const pre = await Promise.all(decoded.map((d) => im.preprocess(d, card)));
const decode = await perImage((i) => im.decodeImage(files[k(i)].slice()));
const preprocess = await perImage((i) => im.preprocess(decoded[k(i)], card));
const render = await perImage((i) =>
  im.renderExplanation(decoded[k(i)], pre[k(i)].geometry, cam, options),
);

const pool = new ImagePool();
const one = async (i) => {
  const p = await pool.prepare(files[k(i)].slice(), card, 'bulk');
  await pool.render(p.image, p.geometry, cam, 'bulk', options);
};
for (let i = 0; i < 2; i++) await one(i);
const c0 = cpu();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < count) await one(next++);
  }),
);
const poolCpu = (cpu() - c0) / count;
const poolRate = (count * 1000) / (performance.now() - t0);
await pool.close();
const r = (v) => Math.round(v * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    root,
    kind,
    channels: decoded[0].channels,
    decode: r(decode),
    preprocess: r(preprocess),
    render: r(render),
    stages: r(decode + preprocess + render),
    poolImagesPerSec: r(poolRate),
    poolCpuMsPerImage: r(poolCpu),
  })}\n`,
);
