// One camflow service as a child process that fault tests can signal, time and start again:
// `camflow serve <name>` as in production, or the tuned launcher when start options are given.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CAMFLOW_BIN as CLI } from '../../../services/cli/src/demo/service-process.js';

const TUNED = fileURLToPath(new URL('./tuned-service.mjs', import.meta.url));

export type ServiceName = 'ingest' | 'worker' | 'results';

/** How a service process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() at exit. */
  at: number;
}

/** A running service process. */
export interface Service {
  name: ServiceName;
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/**
 * Starts service `name` with `env` (LOG_LEVEL warn), output appended to `logFile`. With
 * `options`, the service starts through tuned-service.mjs with those start options.
 */
export function startService(
  name: ServiceName,
  env: Record<string, string>,
  logFile: string,
  options?: Record<string, unknown>,
): Service {
  const args = options ? [TUNED, name] : [CLI, 'serve', name];
  const extra = options ? { CAMFLOW_TEST_SERVICE_OPTIONS: JSON.stringify(options) } : {};
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    name,
    child,
    pid: child.pid ?? -1,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
