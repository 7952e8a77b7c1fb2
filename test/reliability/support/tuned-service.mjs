// `camflow serve worker|results` with start options that the environment cannot set: fault
// tests shorten the worker's job lock and stalled check, and the results indexer's reclaim
// idle time, so recovery from a killed process takes seconds instead of a minute or more.
// Usage: node tuned-service.mjs worker|results, options as JSON in CAMFLOW_TEST_SERVICE_OPTIONS.
// Shuts down on SIGTERM/SIGINT like `camflow serve` (close, then exit 0).
import { loadConfig } from '@camflow/config';
import { startResults } from '@camflow/results-api';
import { startWorker } from '@camflow/worker';

const starters = { worker: startWorker, results: startResults };
const name = process.argv[2];
if (!(name in starters)) {
  process.stderr.write('usage: tuned-service.mjs worker|results\n');
  process.exit(2);
}
const options = JSON.parse(process.env.CAMFLOW_TEST_SERVICE_OPTIONS ?? '{}');
const service = await starters[name](loadConfig(), options);
const stop = (signal) => {
  process.stderr.write(`tuned ${name}: ${signal}, shutting down\n`);
  service.close().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`tuned ${name}: shutdown failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
