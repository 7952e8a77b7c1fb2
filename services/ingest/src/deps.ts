import type { EventRule, Principal } from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import type { Redis } from 'ioredis';
import type { DicomIntakeDeps } from './dicom-intake.js';
import type { IngestMetrics } from './metrics.js';
import type { ModelCatalog } from './models.js';
import type { IngestQueues } from './queues.js';

/** What the ingest HTTP app needs; `startIngest` builds these from the config. */
export interface IngestDeps {
  /** Commands connection (index writes, PING); fails fast rather than queueing while down. */
  redis: Redis;
  store: ObjectStore;
  queues: IngestQueues;
  models: ModelCatalog;
  /** CAMFLOW_MODEL_BUCKET (readiness probes it). */
  modelBucket: string;
  tokens: Map<string, Principal>;
  eventRules: EventRule[];
  metrics: IngestMetrics;
  logger?: Logger;
  /** POST requests per token per window (default 1200 a minute). */
  rateLimit?: { max: number; windowMs: number };
  /** Largest request body in bytes (default 1 MiB; STOW-RS has its own limit). */
  bodyLimit?: number;
  /** STOW-RS uploads (`POST /dicomweb/studies`) go through this DICOM intake; absent: no route. */
  dicom?: DicomIntakeDeps;
}
