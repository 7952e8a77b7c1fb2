import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import type { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ImageWork } from '../image-work.js';
import type { ModelRegistry } from '../model-registry.js';

/** What the audit jobs use of the worker. */
export interface AuditDeps {
  redis: Redis;
  store: ObjectStore;
  outputBucket: string;
  models: Pick<ModelRegistry, 'get'>;
  images: ImageWork;
  /** Adds the occlusion chunks and their finalize job (a BullMQ flow). */
  flow: FlowProducer;
  /** The queue audit jobs run on (bulk: they never delay realtime images). */
  queue: Queue;
  maxObjectBytes: number;
  logger: Logger;
}
