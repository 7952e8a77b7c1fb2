import { loadConfig } from '@camflow/config';
import { runUntilSignal } from '@camflow/telemetry';
import { startIngest } from './ingest.js';

// Wiring only: signals (from the first moment) -> config -> start -> graceful close.
const code = await runUntilSignal('ingest', async () => startIngest(loadConfig()));
process.exit(code);
