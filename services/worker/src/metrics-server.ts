import type { Gauge, OpsServer, Registry } from '@camflow/telemetry';
import { startOpsServer } from '@camflow/telemetry';
import type { ProviderStatus } from './provider-check.js';

/** What the worker's probes look at. */
export interface WorkerProbes {
  /** Liveness: the process can work (engine and image threads alive). Not Redis: an outage must not restart every worker at once. */
  live(): boolean;
  /** Readiness: connected to Redis, consuming, not shutting down. */
  ready(): boolean;
  provider: ProviderStatus;
}

/**
 * The worker's internal listener (WORKER_METRICS_PORT): `GET /metrics`, `GET /healthz`
 * (liveness, with the execution provider in use) and `GET /readyz` (readiness).
 */
export function startMetricsServer(
  registry: Registry,
  port: number,
  host: string,
  probes: WorkerProbes,
): Promise<OpsServer> {
  const provider = { requested: probes.provider.requested, active: probes.provider.active };
  return startOpsServer({
    registry,
    port,
    host,
    live: () => {
      const ok = probes.live();
      return { ok, body: { status: ok ? 'ok' : 'unhealthy', provider } };
    },
    ready: () => {
      const ok = probes.ready();
      return { ok, body: { status: ok ? 'ok' : 'not-ready' } };
    },
  });
}

/** `camflow_worker_execution_provider{requested, active} 1`: alert when they differ. */
export function recordProvider(gauge: Gauge<'requested' | 'active'>, p: ProviderStatus): void {
  gauge.set({ requested: p.requested, active: p.active }, 1);
}
