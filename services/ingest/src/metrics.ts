import { Counter, Gauge, type Registry } from '@camflow/telemetry';

/** The ingest service's Prometheus metrics. */
export interface IngestMetrics {
  registry: Registry;
  runsCreated: Counter<'kind'>;
  jobsEnqueued: Counter<'queue'>;
  resultsReused: Counter;
  eventsReceived: Counter;
  eventsIgnored: Counter<'reason'>;
  /** Jobs per second of the latest enqueued chunk (smoothed). */
  enqueueRate: Gauge;
  /** Run expansions currently paused by backpressure. */
  expansionsPaused: Gauge;
}

/** Registers the ingest metrics on `registry`. */
export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    registry,
    runsCreated: new Counter({
      name: 'camflow_ingest_runs_created_total',
      help: 'Runs created, by kind (run, job, events)',
      labelNames: ['kind'],
      registers,
    }),
    jobsEnqueued: new Counter({
      name: 'camflow_ingest_jobs_enqueued_total',
      help: 'Explain jobs handed to a queue (re-adds of an existing job id included)',
      labelNames: ['queue'],
      registers,
    }),
    resultsReused: new Counter({
      name: 'camflow_ingest_results_reused_total',
      help: 'Jobs answered from an existing result instead of being queued',
      registers,
    }),
    eventsReceived: new Counter({
      name: 'camflow_ingest_events_received_total',
      help: 'Bucket notification records received',
      registers,
    }),
    eventsIgnored: new Counter({
      name: 'camflow_ingest_events_ignored_total',
      help: 'Bucket notification records ignored, by reason',
      labelNames: ['reason'],
      registers,
    }),
    enqueueRate: new Gauge({
      name: 'camflow_ingest_enqueue_jobs_per_second',
      help: 'Enqueue rate of run expansion (smoothed over recent chunks)',
      registers,
    }),
    expansionsPaused: new Gauge({
      name: 'camflow_ingest_expansions_paused',
      help: 'Run expansions waiting for the queue to drain (backpressure)',
      registers,
    }),
  };
}
