import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** A Prometheus registry with the process's default metrics and a `service` label. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Per-stage latency buckets, in seconds (10 ms to 60 s). */
export const STAGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export { Counter, Gauge, Histogram, Registry };
