/**
 * A service process's life: signal handlers first, then start-up, then wait for SIGTERM/SIGINT
 * and close gracefully. Handlers are installed before start-up because start-up can wait a
 * long time (a worker waits for Redis), and a PID-1 process without a handler ignores SIGTERM:
 * the orchestrator would wait out its whole grace period, then SIGKILL it.
 */

export interface Closable {
  close(): Promise<void>;
}

export interface RunOptions {
  /** Where progress lines go (default stderr). */
  log?: (line: string) => void;
  /** The process to listen on (tests pass an EventEmitter). */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Starts a service and resolves with the exit code once it has stopped: 0 after a signal and a
 * clean close (or a signal during start-up: nothing was taken on yet), 1 when closing failed or
 * a second signal cut it short. A start-up error rejects (the caller reports it).
 */
export function runUntilSignal(
  name: string,
  start: () => Promise<Closable>,
  opts: RunOptions = {},
): Promise<number> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const proc = opts.signals ?? process;
  return new Promise<number>((resolve, reject) => {
    let service: Closable | undefined;
    let stopping = false;
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      for (const s of SIGNALS) proc.off(s, onSignal);
      resolve(code);
    };
    function onSignal(signal: NodeJS.Signals) {
      if (stopping) {
        log(`camflow ${name}: ${signal} again, exiting now`);
        return finish(1);
      }
      stopping = true;
      if (!service) {
        log(`camflow ${name}: ${signal} during start-up, exiting`);
        return finish(0);
      }
      log(`camflow ${name}: ${signal}, shutting down`);
      service.close().then(
        () => finish(0),
        (err: unknown) => {
          log(`camflow ${name}: shutdown failed: ${String(err)}`);
          finish(1);
        },
      );
    }
    for (const s of SIGNALS) proc.on(s, onSignal);
    start().then(
      (s) => {
        service = s;
        // A signal that came during start-up has already resolved; close what started late.
        if (settled) void s.close().catch(() => undefined);
      },
      (err: unknown) => {
        for (const s of SIGNALS) proc.off(s, onSignal);
        if (settled) return;
        settled = true;
        reject(err);
      },
    );
  });
}
