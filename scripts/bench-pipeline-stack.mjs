// The pipeline benchmark's private stack: its own redis-server and s3rver (never the machine's
// shared 6379), the services as `camflow serve` processes, and one cleanup list that runs on
// success, failure and Ctrl-C alike.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startEmbeddedS3, startRedisServer } from '@camflow/storage';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The CLI launcher: `camflow serve <service>`. */
export const CAMFLOW_BIN = join(root, 'services/cli/bin/camflow.js');

/** Cleanups run last-in first-out, once; children still alive at exit are killed. */
export class Cleanup {
  #steps = [];
  #children = new Set();
  #done;

  constructor() {
    // Last resort (an uncaught throw, process.exit): no child outlives the benchmark.
    process.on('exit', () => {
      for (const c of this.#children)
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }

  /** Registers a cleanup step. */
  push(step) {
    this.#steps.push(step);
  }

  /** Tracks a child process for the exit-time kill. */
  track(child) {
    if (child) this.#children.add(child);
    return child;
  }

  /** Runs every step (errors are reported, not thrown); safe to call twice. */
  run() {
    this.#done ??= (async () => {
      for (const step of this.#steps.reverse()) {
        await step().catch((err) => process.stderr.write(`bench: cleanup: ${err.message}\n`));
      }
    })();
    return this.#done;
  }
}

/** redis-server and s3rver children under `dir`, with the env the services need. */
export async function startBackends(dir, cleanup) {
  const redis = await startRedisServer({ dir: join(dir, 'redis') });
  cleanup.track(redis.process);
  cleanup.push(() => redis.close());
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  cleanup.track(s3.process);
  cleanup.push(() => s3.close());
  return { redis, s3 };
}

/** A service child process (`camflow serve <name>`, or a script), output appended to `logFile`. */
export function startProcess(name, args, env, logFile, cleanup) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  cleanup.track(child);
  const proc = {
    name,
    child,
    logFile,
    /** SIGTERM (graceful), SIGKILL after `graceMs`; resolves with the exit code. */
    stop: (graceMs = 20_000) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
  cleanup.push(() => proc.stop());
  return proc;
}

/** `camflow serve <service>` as its own process. */
export function startService(service, env, dir, cleanup) {
  return startProcess(
    service,
    [CAMFLOW_BIN, 'serve', service],
    env,
    join(dir, `${service}.log`),
    cleanup,
  );
}

/** Polls `url` until it answers 200; fails early when `proc` exits. */
export async function waitHealthy(url, proc, timeoutMs = 60_000) {
  const started = Date.now();
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode}): ${logTail(proc.logFile)}`);
    }
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${url} not healthy in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines of a log file, for error messages. */
export function logTail(file, lines = 8) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export { freePort };
