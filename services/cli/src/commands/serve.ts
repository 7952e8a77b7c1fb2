import type { Config } from '@camflow/config';
import { startIngest } from '@camflow/ingest';
import { startResults } from '@camflow/results-api';
import { startWorker } from '@camflow/worker';
import { UsageError } from '../usage.js';

const SERVICES = {
  ingest: (c: Config) => startIngest(c),
  worker: (c: Config) => startWorker(c),
  results: (c: Config) => startResults(c),
} as const;

/**
 * `camflow serve ingest|worker|results`: one service in the foreground, configured from the
 * environment; SIGTERM or SIGINT shuts it down gracefully (in-flight work finishes or is
 * released), then the process exits.
 */
export async function serveCommand(argv: string[], config: Config): Promise<number> {
  const name = argv[0] as keyof typeof SERVICES | undefined;
  if (!name || !(name in SERVICES) || argv.length > 1) {
    throw new UsageError('usage: camflow serve ingest|worker|results');
  }
  const service = await SERVICES[name](config);
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`camflow ${name}: ${signal}, shutting down\n`);
      service.close().then(
        () => {
          // Exit even if a library left a handle open; an unref'd timer never delays a clean exit.
          setTimeout(() => process.exit(0), 200).unref();
          resolve(0);
        },
        (err: unknown) => {
          process.stderr.write(`camflow ${name}: shutdown failed: ${String(err)}\n`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return stopped;
}
