import type { Config } from '@camflow/config';
import { parseApiTokens, QUEUES } from '@camflow/contracts';
import { type ObjectStore, S3Store } from '@camflow/storage';
import { createLogger, type Logger, type OpsServer, startOpsServer } from '@camflow/telemetry';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import type { RouteContext } from './context.js';
import { AuditTrigger } from './indexer/audit-trigger.js';
import { Indexer, type IndexerOptions } from './indexer/consumer.js';
import { linkKey } from './links.js';
import { createMetrics } from './metrics.js';
import { resultsReadiness } from './readiness.js';
import { SseHub } from './routes/events-sse.js';
import { withPublicPresign } from './store/public-presign.js';

/** Options of `startResults` (all optional; tests and the demo use a few). */
export interface ResultsOptions {
  /** Overrides RESULTS_PORT; 0 picks a free port. */
  port?: number;
  /** Listen address; default HOST (127.0.0.1 unless set; 0.0.0.0 in the images). */
  host?: string;
  /** Internal /metrics, /healthz, /readyz listener without a token; default METRICS_PORT, else none. */
  metricsPort?: number;
  logger?: Logger;
  /** Defaults to an S3Store from the config. */
  store?: ObjectStore;
  /** Indexer settings, or false to serve only (another process indexes). */
  indexer?: Partial<IndexerOptions> | false;
  /** SSE heartbeat comment interval (ms, default 15 s). */
  heartbeatMs?: number;
  overlayUrlExpirySeconds?: number;
  reportUrlExpirySeconds?: number;
  reportGalleryLimit?: number;
  reportScanLimit?: number;
  /** How long close() lets in-flight requests finish before dropping connections (ms). */
  closeGraceMs?: number;
}

/** A running results API. */
export interface ResultsService {
  port: number;
  /** The internal listener's port, when there is one. */
  metricsPort?: number;
  /** Stops the indexer and the HTTP server and closes connections; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the results API: the event indexer (consumer group on the events stream) and the HTTP
 * server (runs, results, jobs, report, SSE, health, metrics, OpenAPI, Bull Board).
 */
export async function startResults(
  config: Config,
  opts: ResultsOptions = {},
): Promise<ResultsService> {
  const logger = opts.logger ?? createLogger('results-api');
  const tokens = parseApiTokens(config.CAMFLOW_API_TOKENS);
  if (tokens.size === 0) logger.warn('CAMFLOW_API_TOKENS is empty: every request will be refused');
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const ownStore = !opts.store;
  const internalStore = opts.store ?? S3Store.fromConfig(config);
  const store = withPublicPresign(internalStore, config);
  const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection: redis }));
  const metrics = createMetrics(redis, queues);
  const ctx: RouteContext = {
    redis,
    store,
    logger,
    overlayUrlExpirySeconds: opts.overlayUrlExpirySeconds ?? 15 * 60,
    reportUrlExpirySeconds: opts.reportUrlExpirySeconds ?? 24 * 3600,
    reportGalleryLimit: opts.reportGalleryLimit ?? 500,
    reportScanLimit: opts.reportScanLimit ?? 20_000,
    linkKey: linkKey(config.CAMFLOW_LINK_SECRET, config.CAMFLOW_API_TOKENS),
  };
  const hub = new SseHub(ctx, { heartbeatMs: opts.heartbeatMs ?? 15_000, blockMs: 5000 });
  let indexer: Indexer | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let ops: OpsServer | undefined;

  let closing: Promise<void> | undefined;
  const ready = resultsReadiness(
    redis,
    internalStore,
    config.CAMFLOW_OUTPUT_BUCKET,
    logger,
    () => closing !== undefined,
  );
  const close = () => {
    closing ??= (async () => {
      await indexer?.close();
      // Connections that never finish on their own (clients holding a spare socket open) are
      // dropped after a grace period, so shutdown is prompt.
      const server = app?.server;
      const force = setTimeout(() => server?.closeAllConnections(), opts.closeGraceMs ?? 2000);
      await app?.close();
      clearTimeout(force);
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      await redis.quit().catch(() => redis.disconnect());
      if (ownStore) store.close();
      await ops?.close();
    })();
    return closing;
  };

  try {
    if (opts.indexer !== false) {
      const blocking = redis.duplicate();
      blocking.on('error', () => {});
      const bulk = queues.find((q) => q.name === QUEUES.bulk) as Queue;
      const audits = new AuditTrigger(redis, bulk, logger);
      indexer = new Indexer(
        redis,
        blocking,
        logger,
        metrics,
        { claimIdleMs: config.RESULTS_CLAIM_IDLE_MS, ...(opts.indexer || {}) },
        (runIds) => audits.check(runIds),
      );
      await indexer.start();
    }
    const host = opts.host ?? config.HOST;
    const metricsPort = opts.metricsPort ?? config.METRICS_PORT;
    if (metricsPort !== undefined) {
      ops = await startOpsServer({
        registry: metrics.registry,
        port: metricsPort,
        host,
        live: () => ({ ok: true, body: { ok: true } }),
        ready,
      });
    }
    app = await buildApp({ ctx, tokens, metrics, queues, hub, ready });
    await app.listen({ port: opts.port ?? config.RESULTS_PORT, host });
  } catch (err) {
    await close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  logger.info({ port, metricsPort: ops?.port }, 'results API listening');
  return { port, metricsPort: ops?.port, close };
}
