// `camflow serve ingest` with one option changed, for the enqueue benchmark: the run-expansion
// high-water mark (default 50,000 waiting jobs) is raised to argv[2], because with no worker
// draining the queue the default backpressure pauses a 100k-key run at about 50k by design.
import { loadConfig } from '@camflow/config';
import { startIngest } from '@camflow/ingest';

const highWater = Number(process.argv[2] ?? 1_000_000);
const service = await startIngest(loadConfig(), { expansion: { highWater } });
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
