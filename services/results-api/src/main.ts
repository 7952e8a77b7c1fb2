import { loadConfig } from '@camflow/config';
import { createLogger, runUntilSignal } from '@camflow/telemetry';
import { startResults } from './service.js';

// Wiring only: signals (from the first moment) -> config -> start -> graceful close.
const logger = createLogger('results-api');
const code = await runUntilSignal('results', async () => startResults(loadConfig(), { logger }), {
  log: (line) => logger.info(line),
});
process.exit(code);
