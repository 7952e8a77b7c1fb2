import type { Config } from '@camflow/config';
import { startDicomService } from '@camflow/dicom-service';
import { startIngest } from '@camflow/ingest';
import { startResults } from '@camflow/results-api';
import { runUntilSignal } from '@camflow/telemetry';
import { startWorker } from '@camflow/worker';
import { UsageError } from '../usage.js';

const SERVICES = {
  ingest: (c: Config) => startIngest(c),
  worker: (c: Config) => startWorker(c),
  results: (c: Config) => startResults(c),
  dicom: (c: Config) => startDicomService(c),
} as const;

/**
 * `camflow serve ingest|worker|results|dicom`: one service in the foreground, configured from the
 * environment; SIGTERM or SIGINT shuts it down gracefully (in-flight work finishes or is
 * released), then the process exits. Signals are handled from the first moment, start-up
 * included (a worker waiting for Redis stops at once).
 */
export async function serveCommand(argv: string[], config: Config): Promise<number> {
  const name = argv[0] as keyof typeof SERVICES | undefined;
  if (!name || !(name in SERVICES) || argv.length > 1) {
    throw new UsageError('usage: camflow serve ingest|worker|results|dicom');
  }
  try {
    return await runUntilSignal(name, () => SERVICES[name](config));
  } finally {
    // Exit even if a library left a handle open (or start-up is still waiting on one); an
    // unref'd timer never delays a clean exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  }
}
