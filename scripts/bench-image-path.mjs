#!/usr/bin/env node
// `npm run bench:image-path` (issue 11): CPU per image of each stage of the worker's image path,
// in this process (one thread, `process.cpuUsage`, which counts libvips' and zlib's threads too),
// on a 1024x1024 JPEG phantom (the pipeline benchmark's inputs) and a 2048x2500 16-bit DICOM
// film: decode, preprocess (the seed card, Pillow-exact), render with the worker's default
// outputs and with each alternative (overlay format and size, heatmap size). Also the outputs'
// sizes, and how far a JPEG overlay is from the lossless one.
// Writes the table between the image-path markers of docs/BENCHMARKS.md (BENCH_DOCS=0: not).
// Sizes: BENCH_REPEAT (20, DICOM a quarter of it).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeImage,
  parseCard,
  preprocess,
  renderExplanation,
  seedCardJson,
} from '@camflow/imaging';
import { DEFAULT_OUTPUTS, renderOptions } from '@camflow/worker';
import { dicomFilms, phantomJpegs } from './bench-pipeline-fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const repeat = Number(process.env.BENCH_REPEAT ?? 20);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Mean CPU ms (and wall ms) of `fn` over `n` calls after 2 warm-up calls. */
async function measure(n, fn) {
  for (let i = 0; i < 2; i++) await fn(i);
  const c0 = cpu();
  const t0 = performance.now();
  let last;
  for (let i = 0; i < n; i++) last = await fn(i);
  return { cpuMs: (cpu() - c0) / n, wallMs: (performance.now() - t0) / n, last };
}

const loadStart = loadavg()[0];
const card = parseCard({ ...seedCardJson, layer: 'resnet_blocks.3', align: 'receptive-field' });
// A 16x16 CAM on the reference models' receptive-field grid (stride 16, origin 7.5).
const cam = {
  width: 16,
  height: 16,
  data: Float32Array.from({ length: 256 }, (_, i) => Math.max(0, Math.sin(i * 0.37) + 0.3)),
  grid: { origin: [7.5, 7.5], stride: [16, 16] },
};
const jpegs = await phantomJpegs(join(root, '.camflow/bench-pipeline'), 4, 2026);
const films = await dicomFilms(jpegs, 2);
const inputs = [
  { name: '1024x1024 JPEG', files: jpegs.map((j) => j.bytes), n: repeat },
  { name: '2048x2500 16-bit DICOM', files: films.map((f) => f.bytes), n: Math.ceil(repeat / 4) },
];

const defaults = renderOptions(DEFAULT_OUTPUTS);
const variants = [
  ['worker defaults (outputs.ts)', defaults],
  ['overlay PNG, source size; heatmap source (before)', { format: 'png' }],
  ['overlay PNG (defaults otherwise)', { ...defaults, format: 'png' }],
  ['overlay WebP q90 (defaults otherwise)', { ...defaults, format: 'webp' }],
  ['overlay JPEG, max side 1024', { ...defaults, overlayMaxSide: 1024 }],
  ['heatmap at source size (defaults otherwise)', { ...defaults, heatmapMaxSide: undefined }],
];

const rows = [];
for (const input of inputs) {
  const decoded = await Promise.all(input.files.map((b) => decodeImage(b)));
  const pre = await Promise.all(decoded.map((d) => preprocess(d, card)));
  const k = (i) => i % input.files.length;
  const d = await measure(input.n, (i) => decodeImage(input.files[k(i)]));
  rows.push([input.name, 'decode', d.cpuMs, d.wallMs, '']);
  const p = await measure(input.n, (i) => preprocess(decoded[k(i)], card));
  rows.push([input.name, 'preprocess (seed card, Pillow-exact)', p.cpuMs, p.wallMs, '']);
  for (const [label, options] of variants) {
    const r = await measure(input.n, (i) =>
      renderExplanation(decoded[k(i)], pre[k(i)].geometry, cam, options),
    );
    const { overlay, heatmap, overlaySize, heatmapSize } = r.last;
    const note = `overlay ${overlaySize.width}x${overlaySize.height} ${(overlay.length / 1024).toFixed(0)} KB, heatmap ${heatmapSize.width}x${heatmapSize.height} ${(heatmap.length / 1024).toFixed(0)} KB`;
    rows.push([input.name, `render: ${label}`, r.cpuMs, r.wallMs, note, r.last, options]);
  }
  // How far the default (lossy) overlay is from the lossless one, same size.
  const def = rows.find((x) => x[0] === input.name && x[1].includes('worker defaults'));
  const png = rows.find((x) => x[0] === input.name && x[1].includes('overlay PNG (defaults'));
  if (def && png) {
    const a = await decodeImage(def[5].overlay);
    const b = await decodeImage(png[5].overlay);
    if (a.width === b.width && a.height === b.height && a.channels === b.channels) {
      let sum = 0;
      let max = 0;
      let sq = 0;
      for (let i = 0; i < a.data.length; i++) {
        const e = Math.abs(a.data[i] - b.data[i]);
        sum += e;
        sq += e * e;
        if (e > max) max = e;
      }
      const mse = sq / a.data.length;
      def[4] += `; vs PNG: mean |diff| ${(sum / a.data.length).toFixed(2)}, max ${max}, PSNR ${(10 * Math.log10((255 * 255) / mse)).toFixed(1)} dB`;
    }
  }
}

const f = (v, d = 1) => v.toFixed(d);
const table = [
  '| input | stage | CPU ms | wall ms | outputs |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${f(r[2])} | ${f(r[3])} | ${r[4]} |`),
].join('\n');
const loadEnd = loadavg()[0];
const cpuName =
  /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
const section = `## Image path, stage by stage (issue 11)

Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} with \`npm run bench:image-path\` on ${nproc} cores (${cpuName}),
Node ${process.version}; load average ${f(loadStart, 2)} at the start, ${f(loadEnd, 2)} at the end. One thread,
CPU ms per image from \`process.cpuUsage\` (libvips' and zlib's threads included), means of
${repeat} runs (DICOM ${Math.ceil(repeat / 4)}). Render = the CAM field at the image's resolution for the statistics,
the overlay (blend and encode) and the 16-bit heatmap, as \`renderExplanation\` does in an image
thread; a 16x16 CAM drawn on its receptive fields (the reference models' layer).

${table}
`;
process.stdout.write(`${section}\n`);
if (process.env.BENCH_DOCS !== '0') {
  const file = join(root, 'docs/BENCHMARKS.md');
  const START = '<!-- image-path:start -->';
  const END = '<!-- image-path:end -->';
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `${START}\n${section.trim()}\n${END}`;
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  writeFileSync(
    file,
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + END.length)
      : `${text.trimEnd()}\n\n${block}\n`,
  );
}
