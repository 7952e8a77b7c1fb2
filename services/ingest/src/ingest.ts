import type { Config } from '@camflow/config';
import {
  parseApiTokens,
  parseDicomDestinations,
  parseDicomRules,
  parseEventRules,
} from '@camflow/contracts';
import { type ObjectStore, S3Store } from '@camflow/storage';
import {
  createLogger,
  createRegistry,
  type Logger,
  type OpsServer,
  startOpsServer,
} from '@camflow/telemetry';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildIngestApp } from './app.js';
import type { IngestDeps } from './deps.js';
import {
  type ExpansionWorker,
  type ExpansionWorkerOptions,
  startExpansionWorker,
} from './expand-run.js';
import { createIngestMetrics } from './metrics.js';
import { ModelCatalog } from './models.js';
import { closeQueues, createQueues } from './queues.js';
import { ingestReadiness } from './routes/health.js';

/** `startIngest` options; everything else comes from the config. */
export interface IngestOptions {
  /** Overrides INGEST_PORT; 0 = a free port. */
  port?: number;
  /** Listen address. Default HOST (127.0.0.1 unless set; 0.0.0.0 in the images). */
  host?: string;
  /** Internal /metrics, /healthz, /readyz listener without a token; default METRICS_PORT, else none. */
  metricsPort?: number;
  logger?: Logger;
  /** Defaults to an S3Store from the config. */
  store?: ObjectStore;
  /** Run-expansion worker settings; false = HTTP only (expansion runs elsewhere). */
  expansion?: ExpansionWorkerOptions | false;
  rateLimit?: IngestDeps['rateLimit'];
  bodyLimit?: number;
}

/** A running ingest service. */
export interface IngestService {
  port: number;
  /** The internal listener's port, when there is one. */
  metricsPort?: number;
  app: FastifyInstance;
  /** The expansion worker, unless disabled. */
  expansion?: ExpansionWorker;
  /** Stops taking requests and expansions, then closes connections; safe to call twice. */
  close(): Promise<void>;
}

/** Starts the ingest HTTP service and its run-expansion worker. */
export async function startIngest(
  config: Config,
  opts: IngestOptions = {},
): Promise<IngestService> {
  const logger = opts.logger ?? createLogger('ingest');
  const tokens = parseApiTokens(config.CAMFLOW_API_TOKENS);
  if (tokens.size === 0)
    logger.warn('CAMFLOW_API_TOKENS is empty: every route but /healthz answers 401');
  const eventRules = parseEventRules(config.CAMFLOW_EVENT_RULES);
  const dicomRules = parseDicomRules(
    config.CAMFLOW_DICOM_RULES,
    parseDicomDestinations(config.CAMFLOW_DICOM_DESTINATIONS),
  );
  const ownStore = opts.store === undefined;
  const store = opts.store ?? S3Store.fromConfig(config);
  // HTTP-path commands fail fast while Redis is down (a 500 now beats a request hanging);
  // the worker's connection waits for Redis instead, as BullMQ requires.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  const workerRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  for (const r of [redis, workerRedis])
    r.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
  const queues = createQueues(redis);
  const metrics = createIngestMetrics(createRegistry('ingest'));
  const deps: IngestDeps = {
    redis,
    store,
    queues,
    models: new ModelCatalog(store, config.CAMFLOW_MODEL_BUCKET),
    modelBucket: config.CAMFLOW_MODEL_BUCKET,
    tokens,
    eventRules,
    metrics,
    logger,
    rateLimit: opts.rateLimit,
    bodyLimit: opts.bodyLimit,
    // STOW-RS: the same intake as `camflow serve dicom` (store, route, queue realtime jobs).
    dicom: {
      redis,
      store,
      realtime: queues.realtime,
      bucket: config.CAMFLOW_DICOM_BUCKET ?? config.CAMFLOW_OUTPUT_BUCKET,
      rules: dicomRules,
      owner: 'dicom',
      metrics,
      logger,
    },
  };
  let stopping = false;
  const ready = ingestReadiness(deps, () => stopping);
  const app = buildIngestApp(deps, ready);
  const expansion =
    opts.expansion === false
      ? undefined
      : startExpansionWorker(
          { redis, store, queues, metrics, logger, connection: workerRedis },
          opts.expansion ?? {},
        );

  let ops: OpsServer | undefined;
  const shutdown = async () => {
    // Readiness fails first, so load balancers stop sending before the listener closes.
    stopping = true;
    await app.close();
    await expansion?.close();
    await closeQueues(queues);
    await Promise.all([redis.quit().catch(() => {}), workerRedis.quit().catch(() => {})]);
    if (ownStore) store.close();
    await ops?.close();
    logger.info('ingest stopped');
  };
  let port: number;
  try {
    const host = opts.host ?? config.HOST;
    const metricsPort = opts.metricsPort ?? config.METRICS_PORT;
    if (metricsPort !== undefined) {
      ops = await startOpsServer({
        registry: metrics.registry,
        port: metricsPort,
        host,
        live: () => ({ ok: true, body: { status: 'ok' } }),
        ready,
      });
    }
    await app.listen({ port: opts.port ?? config.INGEST_PORT, host });
    port = (app.server.address() as { port: number }).port;
  } catch (err) {
    await shutdown();
    throw err;
  }
  logger.info(
    { port, metricsPort: ops?.port, rules: eventRules.length, tokens: tokens.size },
    'ingest listening',
  );
  let closing: Promise<void> | undefined;
  return {
    port,
    metricsPort: ops?.port,
    app,
    expansion,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
}
