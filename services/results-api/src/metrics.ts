import { type CompletionEvent, EVENTS_STREAM, RESULTS_GROUP } from '@camflow/contracts';
import {
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  type Registry,
  STAGE_BUCKETS,
} from '@camflow/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'failed',
  'completed',
] as const;

/** Label values from event data are bounded so a bad worker cannot blow up cardinality. */
const label = (s: string) => (/^[\w.:-]{1,48}$/.test(s) ? s : 'other');

/** The results API's Prometheus metrics. */
export interface ResultsMetrics {
  registry: Registry;
  malformed: Counter;
  reclaimed: Counter;
  http: Histogram;
  /** Records one indexed event: counts by type, failures by reason, index lag, stage timings. */
  observeIndexed(event: CompletionEvent, duplicate: boolean): void;
}

/**
 * Creates the registry. Queue depth and the consumer group's pending count are read from Redis
 * when Prometheus scrapes, so they are never stale.
 */
export function createMetrics(redis: Redis, queues: Queue[]): ResultsMetrics {
  const registry = createRegistry('results-api');
  const indexed = new Counter({
    name: 'camflow_events_indexed_total',
    help: 'Completion events indexed, by type (job.completed, job.failed); rate = images/s',
    labelNames: ['type'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'camflow_events_duplicate_total',
    help: 'Completion events that changed nothing (redelivered or already indexed)',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'camflow_job_failures_total',
    help: 'Failed jobs by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'camflow_index_lag_seconds',
    help: 'Time from a job finishing (worker clock) to its event being indexed',
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  const stages = new Histogram({
    name: 'camflow_stage_seconds',
    help: 'Per-stage worker latency reported in completion events (fetch, decode, engine, ...)',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  const malformed = new Counter({
    name: 'camflow_events_malformed_total',
    help: 'Stream entries that were not valid completion events (acknowledged and skipped)',
    registers: [registry],
  });
  const reclaimed = new Counter({
    name: 'camflow_events_reclaimed_total',
    help: 'Pending entries taken over from consumers that stopped without acknowledging',
    registers: [registry],
  });
  const http = new Histogram({
    name: 'camflow_http_request_duration_seconds',
    help: 'HTTP request latency of the results API',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'camflow_queue_jobs',
    help: 'BullMQ jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (q) => {
          const counts = await q.getJobCounts(...QUEUE_STATES);
          for (const s of QUEUE_STATES) this.set({ queue: q.name, state: s }, counts[s] ?? 0);
        }),
      );
    },
  });
  new Gauge({
    name: 'camflow_events_pending',
    help: 'Stream entries read by the results consumer group but not yet acknowledged',
    registers: [registry],
    async collect() {
      const summary = (await redis
        .xpending(EVENTS_STREAM, RESULTS_GROUP)
        .catch(() => [0])) as unknown[];
      this.set(Number(summary[0] ?? 0));
    },
  });
  return {
    registry,
    malformed,
    reclaimed,
    http,
    observeIndexed(event, duplicate) {
      if (duplicate) {
        duplicates.inc();
        return;
      }
      indexed.inc({ type: event.type });
      lag.observe(Math.max(0, Date.now() - event.finishedAt) / 1000);
      if (event.type === 'job.failed') failures.inc({ reason: label(event.error.reason) });
      else
        for (const [stage, ms] of Object.entries(event.timings ?? {}))
          if (Number.isFinite(ms)) stages.observe({ stage: label(stage) }, ms / 1000);
    },
  };
}
