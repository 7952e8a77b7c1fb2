// Services as real processes (`camflow serve ...`), as they run in production; the same code
// the demo uses to start them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@camflow/storage';
import {
  CAMFLOW_BIN,
  type ServiceProcess,
  startServiceProcess,
  waitForHttp,
} from '../../services/cli/src/demo/service-process.js';

export { CAMFLOW_BIN as CLI, type ServiceProcess, waitForHttp };

const logs = mkdtempSync(join(tmpdir(), 'camflow-service-logs-'));

/** Starts `camflow serve <name>` with `env` (warnings and errors logged under a temp dir). */
export function serve(
  name: 'ingest' | 'worker' | 'results',
  env: Record<string, string>,
): ServiceProcess {
  return startServiceProcess(
    name,
    { LOG_LEVEL: 'warn', ...env },
    join(logs, `${name}-${Date.now()}.log`),
  );
}

/** Free ports for the HTTP services. */
export async function servicePorts(): Promise<{ ingest: number; results: number }> {
  return { ingest: await freePort(), results: await freePort() };
}
