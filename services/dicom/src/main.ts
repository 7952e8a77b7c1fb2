import { loadConfig } from '@camflow/config';
import { startDicomService } from './dicom-service.js';

// Wiring only: config -> start -> signals.
const service = await startDicomService(loadConfig());
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
