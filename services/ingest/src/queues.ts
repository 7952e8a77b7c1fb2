import { type ExpandRunJob, QUEUES } from '@camflow/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExplainQueueHandle } from './enqueue.js';

/** The queues ingest writes to. */
export interface IngestQueues {
  realtime: ExplainQueueHandle;
  bulk: ExplainQueueHandle;
  runs: Queue<ExpandRunJob, void, 'expand-run'>;
}

/** Producer handles on the three queues, sharing one connection. */
export function createQueues(connection: Redis): IngestQueues {
  return {
    realtime: new Queue(QUEUES.realtime, { connection }),
    bulk: new Queue(QUEUES.bulk, { connection }),
    runs: new Queue(QUEUES.runs, { connection }),
  };
}

/** Closes the queue handles (the shared connection is its owner's to close). */
export async function closeQueues(q: IngestQueues): Promise<void> {
  await Promise.all([q.realtime.close(), q.bulk.close(), q.runs.close()]);
}
