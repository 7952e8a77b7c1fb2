// The worker service process: signals (from the first moment, so a worker still waiting for
// Redis stops on SIGTERM), configuration, start, graceful shutdown.
import { loadConfig } from '@camflow/config';
import { runUntilSignal } from '@camflow/telemetry';
import { startWorker } from './worker.js';

const code = await runUntilSignal('worker', async () => startWorker(loadConfig()));
process.exit(code);
