// Services as real processes (`camflow serve ...`), as they run in production.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@camflow/storage';

export const CLI = fileURLToPath(new URL('../../services/cli/bin/camflow.js', import.meta.url));

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `camflow serve <name>` with `env`. */
export function serve(
  name: 'ingest' | 'worker' | 'results',
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, [CLI, 'serve', name], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  return {
    name,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Polls `url` until it answers 200 (or throws after `timeoutMs`). */
export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() - started > timeoutMs)
      throw new Error(`${url} did not come up in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Free ports for the HTTP services. */
export async function servicePorts(): Promise<{ ingest: number; results: number }> {
  return { ingest: await freePort(), results: await freePort() };
}
