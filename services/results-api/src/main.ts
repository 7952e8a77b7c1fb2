import { loadConfig } from '@camflow/config';
import { createLogger } from '@camflow/telemetry';
import { startResults } from './service.js';

const logger = createLogger('results-api');
const service = await startResults(loadConfig(), { logger });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
