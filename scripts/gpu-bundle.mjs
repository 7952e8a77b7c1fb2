#!/usr/bin/env node
// Builds .camflow/gpu-bundle/payload.tar.xz: what `npm run gpu-check` needs on a GPU machine
// that has no Node.js, no node_modules and no network (shared/design/GPU-NOTES.md):
//   bin/node                      this machine's node binary
//   gpu-check.mjs                 scripts/gpu-check.mjs and the camflow code it uses (esbuild)
//   node_modules/@camflow/worker  the image and engine thread entries, bundled likewise
//   node_modules/...              onnxruntime-node (linux-x64 binaries only: CPU and WebGPU
//                                 providers), sharp + libvips, piscina, and what the code
//                                 requires at run time (dcmjs and its codecs), with their
//                                 dependencies
//   debs/                         Debian's libvulkan1 (the Vulkan loader WebGPU needs)
//   test/fixtures/...             the golden models for parity and the reference nf=8 model
//   .camflow/bench-pipeline/      four 1024x1024 JPEG phantoms
// scripts/gpu-check.sh unpacks it into a temporary folder and runs it. Carry the folder with
// the device tool (`carry: [".camflow/gpu-bundle"]`); it must stay under 64 MiB.
// Run after `tsc -b` (npm run gpu-bundle does both).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { phantomJpegs } from './bench-pipeline-fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, '.camflow/gpu-bundle');
const stage = join(out, 'stage');
const say = (s) => process.stderr.write(`gpu-bundle: ${s}\n`);
rmSync(out, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

// The worker's building blocks the check uses, without the service around them (bullmq, ioredis
// and the S3 client would come along with the package's index).
const workerDist = join(root, 'services/worker/dist');
const shim = join(out, 'worker-shim.mjs');
writeFileSync(
  shim,
  [
    `export { ImagePool } from ${JSON.stringify(join(workerDist, 'image-work.js'))};`,
    `export { MicroBatcher } from ${JSON.stringify(join(workerDist, 'micro-batcher.js'))};`,
    `export { processJob } from ${JSON.stringify(join(workerDist, 'process-job.js'))};`,
    `export { ThreadedRuntime } from ${JSON.stringify(join(workerDist, 'engine-host.js'))};`,
    `export { outputSettings, renderOptions } from ${JSON.stringify(join(workerDist, 'outputs.js'))};`,
    '',
  ].join('\n'),
);
const external = ['onnxruntime-node', 'sharp', 'piscina'];
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __camflowRequire } from 'node:module'; const require = __camflowRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'worker-shim',
      setup(b) {
        b.onResolve({ filter: /^@camflow\/worker$/ }, () => ({ path: shim }));
      },
    },
  ],
};
await build({
  ...common,
  entryPoints: [join(root, 'scripts/gpu-check.mjs')],
  outfile: join(stage, 'gpu-check.mjs'),
});
const threads = join(stage, 'node_modules/@camflow/worker');
for (const entry of ['image-thread', 'engine-thread']) {
  await build({
    ...common,
    entryPoints: [join(workerDist, `${entry}.js`)],
    outfile: join(threads, `${entry}.mjs`),
  });
}
writeFileSync(
  join(threads, 'package.json'),
  JSON.stringify({
    name: '@camflow/worker',
    type: 'module',
    exports: { './image-thread': './image-thread.mjs', './engine-thread': './engine-thread.mjs' },
  }),
);

// Runtime packages: the externals above and every package the bundles still require at run
// time (CommonJS loaded through createRequire, which esbuild cannot follow), each with its
// dependencies; onnxruntime-node with its linux-x64 binaries only.
const nm = join(root, 'node_modules');
const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const wanted = new Set(external);
for (const file of [
  join(stage, 'gpu-check.mjs'),
  join(threads, 'image-thread.mjs'),
  join(threads, 'engine-thread.mjs'),
]) {
  for (const m of readFileSync(file, 'utf8').matchAll(/\brequire\d*\("([^"./][^"]*)"\)/g)) {
    const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
    if (!builtin.has(m[1]) && !builtin.has(name)) wanted.add(name);
  }
}
const copied = new Set();
const ort = 'onnxruntime-node';
const copyPackage = (name) => {
  if (copied.has(name) || !existsSync(join(nm, name))) return;
  copied.add(name);
  const from = join(nm, name);
  cpSync(from, join(stage, 'node_modules', name), {
    recursive: true,
    filter: (src) => {
      if (name !== ort) return true;
      const rel = src.slice(from.length);
      return !rel.startsWith('/bin/') || /^\/bin(\/napi-v\d+(\/linux(\/x64(\/.*)?)?)?)?$/.test(rel);
    },
  });
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  // onnxruntime-node's own dependencies serve its install script only.
  const deps = name === ort ? ['onnxruntime-common'] : Object.keys(pkg.dependencies ?? {});
  for (const d of [...deps, ...Object.keys(pkg.optionalDependencies ?? {})]) copyPackage(d);
};
for (const name of [...wanted, '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64'])
  copyPackage(name);
say(`packages: ${[...copied].sort().join(', ')}`);

// Node itself, and the data the check reads.
mkdirSync(join(stage, 'bin'));
cpSync(process.execPath, join(stage, 'bin/node'));
for (const f of [
  'test/fixtures/goldens/xray',
  'test/fixtures/goldens/resnet',
  'test/fixtures/goldens/mobilenet',
  'test/fixtures/models/xray-clean/model.onnx',
  'test/fixtures/models/xray-clean/model.json',
])
  cpSync(join(root, f), join(stage, f), { recursive: true });
for (const j of await phantomJpegs(join(root, '.camflow/bench-pipeline'), 4, 2026))
  cpSync(j.file, join(stage, '.camflow/bench-pipeline', j.file.split('/').pop()));

// The Vulkan loader as Debian packages (unpacked there with dpkg -x, no apt needed).
mkdirSync(join(stage, 'debs'));
try {
  execFileSync('apt-get', ['download', 'libvulkan1'], { cwd: join(stage, 'debs'), stdio: 'pipe' });
} catch (err) {
  say(
    `apt-get download libvulkan1 failed (${String(err.stderr ?? err).trim()}); run apt-get update first`,
  );
  process.exit(1);
}

const size = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((f) => statSync(join(dir, f)))
    .filter((s) => s.isFile())
    .reduce((a, s) => a + s.size, 0);
say(`staged ${(size(stage) / 2 ** 20).toFixed(1)} MiB; compressing (xz)...`);
execFileSync('tar', ['-cJf', join(out, 'payload.tar.xz'), '-C', stage, '.'], {
  env: { ...process.env, XZ_OPT: '-6 -T2' },
  stdio: 'inherit',
});
rmSync(stage, { recursive: true, force: true });
rmSync(shim);
const mib = statSync(join(out, 'payload.tar.xz')).size / 2 ** 20;
say(`wrote ${join(out, 'payload.tar.xz')} (${mib.toFixed(1)} MiB)`);
if (mib > 60) {
  say('over 60 MiB: the device tool carries at most 64 MiB');
  process.exit(1);
}
