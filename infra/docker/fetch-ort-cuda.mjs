#!/usr/bin/env node
// Fetches ONNX Runtime's CUDA execution provider for the GPU image (Dockerfile.gpu, stage
// ort-cuda). The provider is too large for the npm package; Microsoft publishes it in the NuGet
// package Microsoft.ML.OnnxRuntime.Gpu.Linux. onnxruntime-node's own install script downloads
// it at the version written in its metadata, which can differ from the package's (1.23.2 asks
// for 1.23.1), and the provider talks to the core library through an internal interface that
// is only promised within one version. So this takes the version from the installed
// onnxruntime-node package, checks the archive (SHA-256 when given, the .nuspec version), and
// extracts the two files the core library loads.
//
//   node fetch-ort-cuda.mjs --package node_modules/onnxruntime-node/package.json --out cuda \
//     [--sha256 <hex>] [--version <x.y.z>] [--base-url <NuGet flat container URL>]
//
// adm-zip (a dependency of onnxruntime-node) is loaded from ./node_modules or the package's.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const ID = 'microsoft.ml.onnxruntime.gpu.linux';
const FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

function fail(message) {
  process.stderr.write(`fetch-ort-cuda: ${message}\n`);
  process.exit(1);
}

function args(argv) {
  const out = { 'base-url': 'https://api.nuget.org/v3-flatcontainer' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    if (!['package', 'out', 'sha256', 'version', 'base-url'].includes(name ?? '')) {
      fail(`unknown argument ${argv[i]}`);
    }
    out[name] = argv[i + 1] ?? '';
  }
  if (!out.package || !out.out) fail('--package and --out are required');
  return out;
}

const opts = args(process.argv.slice(2));
const pkgPath = resolve(opts.package);
const ortVersion = JSON.parse(readFileSync(pkgPath, 'utf8')).version;
const version = opts.version || ortVersion;
if (version !== ortVersion) {
  process.stderr.write(
    `fetch-ort-cuda: warning: provider ${version} for onnxruntime-node ${ortVersion} (--version)\n`,
  );
}
const url = `${opts['base-url'].replace(/\/+$/, '')}/${ID}/${version}/${ID}.${version}.nupkg`;

const res = await fetch(url).catch((err) => fail(`${url}: ${err.cause?.code ?? err.message}`));
if (res.status === 404) {
  fail(
    `NuGet has no Microsoft.ML.OnnxRuntime.Gpu.Linux ${version} (onnxruntime-node is ${ortVersion}); ` +
      'pin onnxruntime-node to a release that has one',
  );
}
if (!res.ok) fail(`${url}: HTTP ${res.status}`);
const archive = Buffer.from(await res.arrayBuffer());
const digest = createHash('sha256').update(archive).digest('hex');
if (opts.sha256 && opts.sha256.toLowerCase() !== digest) {
  fail(`SHA-256 mismatch for ${url}: expected ${opts.sha256}, got ${digest}`);
}

const require = createRequire(join(process.cwd(), 'noop.js'));
let AdmZip;
try {
  AdmZip = require('adm-zip');
} catch {
  AdmZip = createRequire(pkgPath)('adm-zip');
}
const zip = new AdmZip(archive);
const nuspec = zip.getEntries().find((e) => /^[^/]+\.nuspec$/.test(e.entryName));
const nuspecVersion =
  nuspec && /<version>([^<]+)<\/version>/.exec(nuspec.getData().toString())?.[1];
if (nuspecVersion !== version) {
  fail(`the archive says version ${nuspecVersion ?? '(none)'}, expected ${version}`);
}

mkdirSync(opts.out, { recursive: true });
for (const file of FILES) {
  const entry = zip.getEntry(`runtimes/linux-x64/native/${file}`);
  if (!entry) fail(`${file} is not in ${url}`);
  const data = entry.getData();
  // ELF magic: a shared library, not an HTML error page or a Git LFS pointer.
  if (data.length < 64 || data.subarray(0, 4).toString('latin1') !== '\x7fELF') {
    fail(`${file} in ${url} is not an ELF shared library`);
  }
  const dest = join(opts.out, file);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, data);
  process.stdout.write(`${file}: ${data.length} bytes\n`);
}
process.stdout.write(
  `Microsoft.ML.OnnxRuntime.Gpu.Linux ${version} for onnxruntime-node ${ortVersion} (sha256 ${digest})\n`,
);
