#!/usr/bin/env node
// Per-image render cost of @camflow/imaging (build first: `npx tsc -b`):
//   node libs/imaging/bench/render.mjs [--reps N] [--preview DIR] [--baseline] [--before DIST]
//
// Inputs: a 1024x1024 grey JPEG (a synthetic chest X-ray, the pipeline's case), a 1024x1024
// colour JPEG and a 3000x2000 colour JPEG (gradients, waves and grain: harder on PNG than most
// photos). For each: decode and preprocess (context), the stages of the whole-map path
// (camToOriginal, overlayPixels, the overlay's PNG encoding, renderHeatmap16, camStats), then
// renderExplanation with `exact: true` (that path end to end), by default (rows streamed through
// the writers), with a JPEG overlay, with PNG level 0 and from the JPEG bytes.
//
// "Before" in the same run, for ratios that hold on a loaded machine:
//   --baseline      the pre-optimisation formulas, reimplemented below (pow and blend per pixel
//                   and channel, sharp's default PNG level 6, the heatmap deflated at level 6,
//                   camStats' two passes);
//   --before DIST   renderExplanation of another build of this library, e.g. commit a8d0f08:
//     mkdir -p /tmp/old && git archive a8d0f08 libs/imaging/src | tar -x -C /tmp/old &&
//     echo '{"type":"module"}' > /tmp/old/package.json && ln -s "$PWD/node_modules" /tmp/old &&
//     npx tsc --outDir /tmp/old/dist --rootDir /tmp/old/libs/imaging/src --module nodenext \
//       --moduleResolution nodenext --target es2022 --strict --skipLibCheck /tmp/old/libs/imaging/src/index.ts
//     echo '{"type":"module"}' > /tmp/old/dist/package.json   # then: --before /tmp/old/dist
//
// Each figure is the median of N calls (default 9): wall time, and CPU time of the whole process
// (JavaScript plus libvips and zlib on libuv's thread pool), which is what a busy worker pays.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

const lib = await import('../dist/index.js');
const {
  camStats,
  camToOriginal,
  colormapLut,
  decodeImage,
  encodePixels,
  overlayPixels,
  preprocess,
  renderExplanation,
  renderHeatmap16,
  seedCard,
  synthesizeSample,
} = lib;

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '9' },
    preview: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    before: { type: 'string' },
  },
});
const before = args.before ? await import(join(resolve(args.before), 'index.js')) : undefined;
const reps = Number(args.reps);

async function photoJpeg(w, h) {
  const d = new Uint8Array(w * h * 3);
  let s = 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const smooth = (x * 255) / w + c * 80 + (y * 128) / h;
        const wave = 128 * Math.sin(x / 37) * Math.cos(y / 53);
        d[(y * w + x) * 3 + c] = (smooth + ((s >>> 24) - 128) * 0.1 + wave) & 255;
      }
    }
  }
  const raw = { raw: { width: w, height: h, channels: 3 } };
  return new Uint8Array(await sharp(d, raw).jpeg({ quality: 90 }).toBuffer());
}

async function xrayJpeg(n) {
  const s = synthesizeSample({ count: 1, seed: 7, size: n }, 0);
  const raw = { raw: { width: n, height: n, channels: 1 } };
  return new Uint8Array(
    await sharp(s.image, raw).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(),
  );
}

// An 8x8 CAM with a hot spot and some texture (the seed's layer resolution).
const cam = {
  width: 8,
  height: 8,
  data: Float32Array.from({ length: 64 }, (_, i) =>
    Math.max(0, Math.sin(i * 0.7) + (i === 27 ? 3 : 0)),
  ),
};

// Median wall time and median CPU time (all threads of the process: JavaScript, libvips, zlib
// on the thread pool) per call. CPU time is what a busy worker pays; wall time what one call
// waits on an otherwise idle machine.
async function median(f) {
  await f();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  const mid = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return [mid(wall), mid(cpu)];
}

// The render as it was before this benchmark's changes, for --baseline: pow per pixel, the blend
// computed per channel, sharp's default PNG (level 6), the 16-bit heatmap deflated at level 6,
// camStats in two passes with Math.log2.
function baselineOverlayPixels(image, heat) {
  const lut = colormapLut('jet');
  const n = heat.width * heat.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = Math.min(1, Math.max(0, heat.data[i])) ** 2;
    const k = (v > 0 ? Math.min(255, Math.floor(v * 256)) : 0) * 3;
    for (let c = 0; c < 3; c++) {
      const base = image.data[i * image.channels + (image.channels === 1 ? 0 : c)];
      data[i * 3 + c] = Math.round(0.6 * base + 0.4 * 255 * lut[k + c]);
    }
  }
  return { width: heat.width, height: heat.height, channels: 3, data };
}
async function baselineRender(pixels, geometry) {
  const heat = camToOriginal(cam, geometry);
  const ov = baselineOverlayPixels(pixels, heat);
  const raw = { raw: { width: ov.width, height: ov.height, channels: 3 } };
  const overlay = sharp(ov.data, raw).png().toBuffer();
  const stats = camStats(heat);
  const samples = new Uint16Array(heat.width * heat.height);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(Math.min(1, Math.max(0, heat.data[i])) * 65535);
  const stride = heat.width * 2 + 1;
  const rows = Buffer.alloc(heat.height * stride);
  for (let y = 0; y < heat.height; y++) {
    rows[y * stride] = 2;
    for (let x = 0; x < heat.width; x++) {
      const v = samples[y * heat.width + x];
      const above = y > 0 ? samples[(y - 1) * heat.width + x] : 0;
      rows[y * stride + 1 + 2 * x] = (v >> 8) - (above >> 8);
      rows[y * stride + 2 + 2 * x] = (v & 255) - (above & 255);
    }
  }
  deflateSync(rows);
  return Promise.all([overlay, stats]);
}

const inputs = [
  ['1024x1024 grey JPEG (synthetic X-ray)', await xrayJpeg(1024), 'xray-1024'],
  ['1024x1024 colour JPEG', await photoJpeg(1024, 1024), 'colour-1024'],
  ['3000x2000 colour JPEG', await photoJpeg(3000, 2000), 'colour-3000x2000'],
];

const f = ([wall, cpu]) =>
  `${wall.toFixed(1).padStart(7)} ms wall ${cpu.toFixed(1).padStart(7)} ms cpu`;
console.log(
  `node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), libvips threads ${sharp.concurrency()}, median of ${reps}`,
);
for (const [name, bytes, stem] of inputs) {
  const pixels = await decodeImage(bytes);
  const { geometry } = await preprocess(pixels, seedCard);
  const heat = camToOriginal(cam, geometry);
  const ov = overlayPixels(pixels, heat);
  const rows = [
    ['decode (context)', await median(() => decodeImage(bytes))],
    ['preprocess (context)', await median(() => preprocess(pixels, seedCard))],
  ];
  if (before)
    rows.push([
      'BEFORE: renderExplanation of --before build',
      await median(() => before.renderExplanation(pixels, geometry, cam)),
    ]);
  if (args.baseline)
    rows.push([
      'BEFORE: old formulas reimplemented',
      await median(() => baselineRender(pixels, geometry)),
    ]);
  rows.push(
    ['exact: camToOriginal', await median(() => camToOriginal(cam, geometry))],
    ['exact: overlayPixels', await median(() => overlayPixels(pixels, heat))],
    ['exact: overlay PNG encode', await median(() => encodePixels(ov))],
    ['exact: renderHeatmap16', await median(() => renderHeatmap16(heat))],
    ['exact: camStats', await median(() => camStats(heat))],
    [
      'renderExplanation exact: true',
      await median(() => renderExplanation(pixels, geometry, cam, { exact: true })),
    ],
    ['renderExplanation (default)', await median(() => renderExplanation(pixels, geometry, cam))],
    [
      'renderExplanation, JPEG overlay',
      await median(() => renderExplanation(pixels, geometry, cam, { format: 'jpeg' })),
    ],
    [
      'renderExplanation, compressionLevel 0',
      await median(() => renderExplanation(pixels, geometry, cam, { compressionLevel: 0 })),
    ],
    ['renderExplanation from bytes', await median(() => renderExplanation(bytes, geometry, cam))],
  );
  console.log(`\n${name}: ${pixels.channels} channel(s)`);
  for (const [label, ms] of rows) console.log(`  ${label.padEnd(42)} ${f(ms)}`);
  if (args.preview) {
    mkdirSync(args.preview, { recursive: true });
    const out = await renderExplanation(pixels, geometry, cam);
    writeFileSync(join(args.preview, `${stem}-overlay.png`), out.overlay);
    writeFileSync(join(args.preview, `${stem}-heatmap16.png`), out.heatmap);
    console.log(
      `  overlay ${(out.overlay.length / 1e6).toFixed(2)} MB, heatmap ${(out.heatmap.length / 1e6).toFixed(2)} MB, written to ${args.preview}`,
    );
  }
}
