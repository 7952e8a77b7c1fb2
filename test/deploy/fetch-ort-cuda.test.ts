// infra/docker/fetch-ort-cuda.mjs (the GPU image's ort-cuda stage) against a local NuGet-like
// server: it takes the version from onnxruntime-node's package.json, checks the archive's
// SHA-256 and .nuspec version, and extracts exactly the two provider libraries.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'infra/docker/fetch-ort-cuda.mjs');
const ID = 'microsoft.ml.onnxruntime.gpu.linux';
const AdmZip = createRequire(join(ROOT, 'package.json'))('adm-zip');

/** A .nupkg laid out like Microsoft's: nuspec at the root, libraries under runtimes/. */
function nupkg(version: string, nuspecVersion = version): Buffer {
  const zip = new AdmZip();
  zip.addFile(
    `${ID}.nuspec`,
    Buffer.from(
      `<package><metadata><id>Microsoft.ML.OnnxRuntime.Gpu.Linux</id><version>${nuspecVersion}</version></metadata></package>`,
    ),
  );
  for (const lib of ['cuda', 'shared', 'tensorrt']) {
    const elf = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(60, lib.length)]);
    zip.addFile(`runtimes/linux-x64/native/libonnxruntime_providers_${lib}.so`, elf);
  }
  return zip.toBuffer();
}

let server: Server;
let base: string;
let dir: string;
const packages = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'camflow-ort-cuda-'));
  packages.set('1.23.2', nupkg('1.23.2'));
  packages.set('1.23.3', nupkg('1.23.3', '1.23.1'));
  server = createServer((req, res) => {
    const m = new RegExp(`^/${ID}/([^/]+)/${ID}\\.([^/]+)\\.nupkg$`).exec(req.url ?? '');
    const body = m && m[1] === m[2] ? packages.get(m[1]) : undefined;
    res.writeHead(body ? 200 : 404);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the script as a child (asynchronously: the server answering it is in this process). */
function run(version: string, extra: string[] = []) {
  const pkg = join(dir, `ort-${version}.json`);
  writeFileSync(pkg, JSON.stringify({ name: 'onnxruntime-node', version }));
  const out = join(dir, `out-${version}-${extra.length}`);
  return new Promise<{ status: number; stdout: string; stderr: string; out: string }>((resolve) =>
    execFile(
      process.execPath,
      [SCRIPT, '--package', pkg, '--out', out, '--base-url', base, ...extra],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr, out }),
    ),
  );
}

describe('fetch-ort-cuda', () => {
  it("takes onnxruntime-node's version and extracts the CUDA and shared provider libraries", async () => {
    const sha = createHash('sha256')
      .update(packages.get('1.23.2') ?? '')
      .digest('hex');
    const r = await run('1.23.2', ['--sha256', sha]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const lib of ['cuda', 'shared']) {
      const bytes = readFileSync(join(r.out, `libonnxruntime_providers_${lib}.so`));
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    }
    expect(() => readFileSync(join(r.out, 'libonnxruntime_providers_tensorrt.so'))).toThrow();
    expect(r.stdout).toContain(`Gpu.Linux 1.23.2 for onnxruntime-node 1.23.2 (sha256 ${sha})`);
  });

  it('refuses an archive whose SHA-256 differs', async () => {
    const r = await run('1.23.2', ['--sha256', '0'.repeat(64)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fetch-ort-cuda: SHA-256 mismatch/);
  });

  it('says so when NuGet has no provider for that version', async () => {
    const r = await run('1.99.0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/NuGet has no Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.99\.0/);
  });

  it('refuses an archive that says another version inside', async () => {
    const r = await run('1.23.3');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the archive says version 1\.23\.1, expected 1\.23\.3/);
  });
});
