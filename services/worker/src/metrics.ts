import { Counter, Gauge, Histogram, type Registry, STAGE_BUCKETS } from '@camflow/telemetry';

/** The worker's Prometheus metrics. */
export interface WorkerMetrics {
  /** Jobs finished, by queue and outcome (completed, failed, retried). */
  jobs: Counter<'queue' | 'outcome'>;
  /** Images explained (completed jobs). */
  images: Counter<'queue'>;
  /** Failed attempts by reason and whether they are retried. */
  failures: Counter<'reason' | 'retry'>;
  /** Seconds per pipeline stage. */
  stage: Histogram<'stage'>;
  /** Images per engine call. */
  batchSize: Histogram<string>;
  /** Jobs being processed right now. */
  active: Gauge<string>;
  /** 1 for the execution provider in use, labelled with the one requested. */
  provider: Gauge<'requested' | 'active'>;
}

/** Registers the worker's metrics on `registry`. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  return {
    jobs: new Counter({
      name: 'camflow_worker_jobs_total',
      help: 'Explain jobs finished by this worker, by queue and outcome',
      labelNames: ['queue', 'outcome'],
      registers,
    }),
    images: new Counter({
      name: 'camflow_worker_images_processed_total',
      help: 'Images explained (overlay, heatmap and result written, event published)',
      labelNames: ['queue'],
      registers,
    }),
    failures: new Counter({
      name: 'camflow_worker_failures_total',
      help: 'Failed job attempts by reason; retry="true" when BullMQ will try again',
      labelNames: ['reason', 'retry'],
      registers,
    }),
    stage: new Histogram({
      name: 'camflow_worker_stage_seconds',
      help: 'Latency of each pipeline stage per job',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, ...STAGE_BUCKETS],
      registers,
    }),
    batchSize: new Histogram({
      name: 'camflow_worker_batch_size',
      help: 'Images per engine call (micro-batches across concurrent jobs)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    active: new Gauge({
      name: 'camflow_worker_active_jobs',
      help: 'Jobs being processed',
      registers,
    }),
    provider: new Gauge({
      name: 'camflow_worker_execution_provider',
      help: 'ONNX Runtime execution provider in use (active) and asked for (requested); they differ after a fallback to cpu',
      labelNames: ['requested', 'active'],
      registers,
    }),
  };
}
