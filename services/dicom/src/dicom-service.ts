/**
 * `camflow serve dicom`: the DIMSE C-STORE SCP on DICOM_PORT as DICOM_AE_TITLE. Each instance
 * goes through the ingest's DICOM intake (store in S3 as received, route, queue a realtime job)
 * before its C-STORE response, so a success status means it is safe.
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Config } from '@camflow/config';
import { parseDicomDestinations, parseDicomRules } from '@camflow/contracts';
import { closeQueues, createQueues, type DicomIntakeDeps, receiveDicom } from '@camflow/ingest';
import { type ObjectStore, S3Store } from '@camflow/storage';
import {
  createLogger,
  createRegistry,
  type Logger,
  type OpsServer,
  startOpsServer,
} from '@camflow/telemetry';
import dimse from 'dcmjs-dimse';
import { Redis } from 'ioredis';
import { createDicomMetrics } from './metrics.js';
import { STORE_STATUS, storeScpClass } from './scp/store-scp.js';

export interface DicomServiceOptions {
  /** Overrides DICOM_PORT; 0 = a free port. */
  port?: number;
  host?: string;
  /** Internal /metrics, /healthz, /readyz listener; default METRICS_PORT, else none. */
  metricsPort?: number;
  logger?: Logger;
  store?: ObjectStore;
}

export interface DicomService {
  port: number;
  /** The internal listener's port, when there is one. */
  metricsPort?: number;
  close(): Promise<void>;
}

/** Parses DICOM_ALLOWED_AETS: a JSON array of AE titles, or ["*"]. */
export function parseAllowedAets(json: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new Error(`DICOM_ALLOWED_AETS is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string' && a.trim())) {
    throw new Error('DICOM_ALLOWED_AETS must be a JSON array of AE titles, or ["*"]');
  }
  return v as string[];
}

/** Starts the SCP; resolves once it listens. */
export async function startDicomService(
  config: Config,
  opts: DicomServiceOptions = {},
): Promise<DicomService> {
  const logger = opts.logger ?? createLogger('dicom');
  const destinations = parseDicomDestinations(config.CAMFLOW_DICOM_DESTINATIONS);
  const rules = parseDicomRules(config.CAMFLOW_DICOM_RULES, destinations);
  if (rules.length === 0)
    logger.warn('CAMFLOW_DICOM_RULES is empty: instances are stored and skipped');
  const allowedAETs = parseAllowedAets(config.DICOM_ALLOWED_AETS);
  const ownStore = opts.store === undefined;
  const store = opts.store ?? S3Store.fromConfig(config);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
  const queues = createQueues(redis);
  const metrics = createDicomMetrics(createRegistry('dicom'));
  const bucket = config.CAMFLOW_DICOM_BUCKET ?? config.CAMFLOW_OUTPUT_BUCKET;
  await store.ensureBucket(bucket);
  const intake: DicomIntakeDeps = {
    redis,
    store,
    realtime: queues.realtime,
    bucket,
    rules,
    owner: 'dicom',
    logger,
  };
  // dcmjs-dimse logs connections at info level; camflow logs its own lines (no PHI).
  dimse.log.setLevel('error');
  const Scp = storeScpClass({
    calledAET: config.DICOM_AE_TITLE,
    allowedAETs,
    async receive(part10, ctx) {
      const outcome = await receiveDicom(intake, part10, {
        callingAET: ctx.callingAET,
        expect: { sopInstanceUID: ctx.sopInstanceUID, sopClassUID: ctx.sopClassUID },
      });
      metrics.instances.inc({ outcome: outcome.status });
      if (outcome.status !== 'refused') return { status: STORE_STATUS.success };
      logger.warn(
        {
          callingAET: ctx.callingAET,
          sopInstanceUID: outcome.sopInstanceUID,
          why: outcome.why,
          message: outcome.message,
        },
        'C-STORE refused',
      );
      return {
        status:
          outcome.why === 'invalid' ? STORE_STATUS.cannotUnderstand : STORE_STATUS.outOfResources,
      };
    },
    onAssociation(e) {
      const aborted = e.reason === 'aborted by the peer';
      metrics.associations.inc({
        result: e.accepted ? 'accepted' : aborted ? 'aborted' : 'rejected',
      });
      if (!e.accepted) logger.warn(e, aborted ? 'association aborted' : 'association rejected');
    },
  });
  const server = new dimse.Server(Scp);
  server.on('networkError', (err: Error) =>
    logger.warn({ err: err.message }, 'DICOM network error'),
  );
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('networkError', reject);
  });
  // dcmjs-dimse hands its argument to net.Server.listen: an options object sets the address.
  server.listen({
    port: opts.port ?? config.DICOM_PORT,
    host: opts.host ?? config.HOST,
  } as unknown as number);
  await listening;
  const net = (server as unknown as { server: NetServer }).server;
  const port = (net.address() as AddressInfo).port;
  let closed = false;
  // The images' healthcheck asks METRICS_PORT: ready while listening and Redis answers.
  const metricsPort = opts.metricsPort ?? config.METRICS_PORT;
  let ops: OpsServer | undefined;
  if (metricsPort !== undefined) {
    ops = await startOpsServer({
      registry: metrics.registry,
      port: metricsPort,
      host: opts.host ?? config.HOST,
      live: () => ({ ok: true, body: { status: 'ok' } }),
      ready: async () => {
        const redisOk = await redis.ping().then(
          () => true,
          () => false,
        );
        const ok = !closed && net.listening && redisOk;
        return { ok, body: { status: ok ? 'ready' : 'not ready', redis: redisOk } };
      },
    });
  }
  logger.info(
    { port, metricsPort: ops?.port, aeTitle: config.DICOM_AE_TITLE, rules: rules.length },
    'DICOM SCP listening',
  );
  return {
    port,
    metricsPort: ops?.port,
    async close() {
      if (closed) return;
      closed = true;
      await ops?.close();
      server.close();
      await new Promise<void>((resolve) =>
        net.listening ? net.close(() => resolve()) : resolve(),
      );
      await closeQueues(queues);
      redis.disconnect();
      if (ownStore) store.close();
    },
  };
}
