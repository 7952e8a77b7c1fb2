import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './embedded-redis.js';

/** s3rver's built-in account. */
const S3RVER_KEY = 'S3RVER';

/**
 * The S3 settings (environment names of libs/config) that reach an embedded s3rver at
 * `endpoint`: what the demo, the tests and the benchmarks hand to the services they start.
 */
export function embeddedS3Env(endpoint: string): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: S3RVER_KEY,
    S3_SECRET_ACCESS_KEY: S3RVER_KEY,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

export interface EmbeddedS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ChildProcess;
  close(): Promise<void>;
}

/**
 * A real S3 HTTP server (s3rver) over a local folder, in its own process, for the demo and tests
 * where no MinIO or AWS is configured; development only. It listens on 127.0.0.1 alone and
 * refuses keys that would leave its folder (s3rver-guard.ts). s3rver makes listing continuation tokens with DES, which
 * OpenSSL 3 only has in its legacy provider, hence the flag. The same directory and port can be
 * started again after a stop (fault tests).
 */
export async function startEmbeddedS3(opts: {
  directory: string;
  port?: number;
}): Promise<EmbeddedS3> {
  await mkdir(opts.directory, { recursive: true });
  const port = opts.port ?? (await freePort());
  // The compiled entry, whether this module runs from dist/ or (under vitest) from src/.
  const main = fileURLToPath(new URL('../dist/s3rver-main.js', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', main, opts.directory, String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`s3rver exited with code ${child.exitCode}: ${stderr.trim()}`);
    const ok = await fetch(endpoint, { signal: AbortSignal.timeout(500) }).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() - started > 15_000) {
      child.kill('SIGKILL');
      throw new Error('s3rver did not start within 15 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    port,
    directory: opts.directory,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    process: child,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
