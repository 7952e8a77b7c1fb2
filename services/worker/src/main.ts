// The worker service process: configuration, start, graceful shutdown on SIGTERM/SIGINT.
import { loadConfig } from '@camflow/config';
import { startWorker } from './worker.js';

const worker = await startWorker(loadConfig());
const stop = () => {
  void worker.close().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`camflow worker: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
