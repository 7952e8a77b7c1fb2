/**
 * The worker service: one BullMQ Worker per explain queue (realtime and bulk), both feeding one
 * micro-batcher, so images from every concurrent job slot share engine calls and realtime images
 * jump ahead of bulk ones.
 */
import { hostname } from 'node:os';
import type { Config } from '@camflow/config';
import {
  type CompletionEvent,
  type ExplainQueue,
  PermanentError,
  parseDicomDestinations,
  QUEUES,
} from '@camflow/contracts';
import { S3Store } from '@camflow/storage';
import { createLogger, createRegistry, type Logger, type Registry } from '@camflow/telemetry';
import {
  FlowProducer,
  type Job,
  Queue,
  type QueueEvents,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import { Redis } from 'ioredis';
import type { AuditDeps } from './audit/deps.js';
import { isAuditJob, processAuditJob } from './audit/processor.js';
import { InProcessRuntime, type ModelRuntime, ThreadedRuntime } from './engine-host.js';
import { cgroupCpuLimit, imageThreadCount } from './image-threads.js';
import { ImagePool, type ImageWork, InlineImageWork } from './image-work.js';
import { toJobError } from './job-errors.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { recordProvider, startMetricsServer } from './metrics-server.js';
import { MicroBatcher } from './micro-batcher.js';
import { ModelRegistry } from './model-registry.js';
import {
  DEFAULT_MAX_OBJECT_BYTES,
  failedEvent,
  type JobDeps,
  parsePayload,
  processJob,
  unreadablePayloadEvent,
} from './process-job.js';
import { checkExecutionProvider } from './provider-check.js';
import { eventPublisher } from './publisher.js';
import { watchStalledFailures } from './stall-watch.js';

export interface StartWorkerOptions {
  /**
   * Serve `/metrics`, `/healthz` and `/readyz` on this port (0 = any free port); default
   * WORKER_METRICS_PORT, else METRICS_PORT, else none.
   */
  metricsPort?: number;
  logger?: Logger;
  /** Longest an image waits for batch companions (ms); default 15. */
  maxBatchWaitMs?: number;
  /** Source objects above this size fail permanently; default 64 MiB. */
  maxObjectBytes?: number;
  /** Local model cache; default CAMFLOW_CACHE_DIR, else `<os tmpdir>/camflow-models`. */
  modelDirectory?: string;
  /** Run the engines in a worker thread (default true) so the event loop stays free. */
  engineThread?: boolean;
  /**
   * Threads for decoding, preprocessing and rendering; default WORKER_IMAGE_THREADS, else the
   * pod's CPU quota (else cores) - 1, at least 1 (image-threads.ts); 0 = inline.
   */
  imageThreads?: number;
  /** BullMQ lock per job (ms); default 60 s, renewed every half of it. */
  lockDuration?: number;
  /**
   * How often (ms) this worker looks for jobs whose worker died (their lock expired); default
   * 30 s. A killed worker's jobs run again within lockDuration plus up to two of these.
   */
  stalledInterval?: number;
  /** Worker id written into events; default `<hostname>:<pid>`. */
  workerId?: string;
}

/** A running worker. */
export interface WorkerService {
  /** Stops taking jobs, lets in-flight jobs finish, closes every connection. Safe to call twice. */
  close(): Promise<void>;
  /** The metrics port, when one was asked for. */
  port?: number;
  /** Prometheus registry, to mount `/metrics` elsewhere. */
  registry: Registry;
  metrics: WorkerMetrics;
}

/** Starts the worker service on both explain queues. */
export async function startWorker(
  config: Config,
  opts: StartWorkerOptions = {},
): Promise<WorkerService> {
  const logger = opts.logger ?? createLogger('worker');
  // Before any connection: a required provider that is missing stops the start here.
  const provider = await checkExecutionProvider(config);
  if (provider.reason) logger.warn({ provider }, 'execution provider unavailable: using cpu');
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}`;
  const registry = createRegistry('worker');
  const metrics = createWorkerMetrics(registry);
  recordProvider(metrics.provider, provider);
  const store = S3Store.fromConfig(config);
  // BullMQ needs maxRetriesPerRequest: null on connections it blocks on (it duplicates this one).
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const runtime: ModelRuntime =
    opts.engineThread === false ? new InProcessRuntime() : new ThreadedRuntime();
  const images: ImageWork =
    opts.imageThreads === 0
      ? new InlineImageWork()
      : new ImagePool(opts.imageThreads ?? imageThreadCount(config));
  const models = new ModelRegistry({
    store,
    bucket: config.CAMFLOW_MODEL_BUCKET,
    runtime,
    directory: opts.modelDirectory ?? config.CAMFLOW_CACHE_DIR,
    engineOptions: {
      // What the probe found: a missing provider is not retried (and warned about) per model.
      executionProvider: provider.active,
      // ORT sizes its pool to the node's cores otherwise; a CPU quota is the pod's real size.
      intraOpThreads: config.CAMFLOW_INTRA_OP_THREADS ?? cgroupCpuLimit(),
      maxBatch: config.BATCH_SIZE,
    },
  });
  const batcher = new MicroBatcher({
    batchSize: config.BATCH_SIZE,
    maxWaitMs: opts.maxBatchWaitMs,
    onBatch: (b) => {
      metrics.batchSize.observe(b.size);
      metrics.stage.observe({ stage: 'batch' }, b.runMs / 1000);
    },
  });
  const publish = eventPublisher(redis);
  const dicomDeps = {
    destinations: parseDicomDestinations(config.CAMFLOW_DICOM_DESTINATIONS),
    logger,
  };
  // Audit jobs share the bulk queue; their occlusion chunks are queued as BullMQ flows.
  const auditQueue = new Queue(QUEUES.bulk, { connection: redis });
  const flow = new FlowProducer({ connection: redis });
  const auditDeps: AuditDeps = {
    redis,
    store,
    outputBucket: config.CAMFLOW_OUTPUT_BUCKET,
    models,
    images,
    flow,
    queue: auditQueue,
    maxObjectBytes: opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
    logger,
  };

  const processor = (queue: ExplainQueue) => {
    const priority = queue === QUEUES.realtime ? 'realtime' : 'bulk';
    return async (job: Job) => {
      const id = job.id ?? '';
      const attempt = job.attemptsMade + 1;
      const runId = (job.data as { runId?: unknown } | undefined)?.runId;
      const log = logger.child({ jobId: id, runId: typeof runId === 'string' ? runId : undefined });
      if (isAuditJob(job.name)) return processAuditJob(job, { ...auditDeps, logger: log }, log);
      const deps: JobDeps = {
        store,
        models,
        batcher,
        images,
        publish,
        outputBucket: config.CAMFLOW_OUTPUT_BUCKET,
        maxObjectBytes: opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
        workerId,
        logger: log,
        dicom: dicomDeps,
      };
      metrics.active.inc();
      try {
        const { event, timings } = await processJob(
          { id, data: job.data, attempt, priority },
          deps,
        );
        for (const [stage, ms] of Object.entries(timings))
          metrics.stage.observe({ stage }, ms / 1000);
        metrics.images.inc({ queue });
        metrics.jobs.inc({ queue, outcome: 'completed' });
        log.info({ predicted: event.prediction.predicted, timings }, 'job completed');
        return { resultKey: event.outputs.resultKey };
      } catch (err) {
        await onFailure(job, queue, toJobError(err), attempt, log);
        throw err; // unreachable: onFailure always throws
      } finally {
        metrics.active.dec();
      }
    };
  };

  /** Permanent: job.failed now and no retries. Transient: retry, or job.failed on the last attempt. */
  async function onFailure(
    job: Job,
    queue: ExplainQueue,
    err: ReturnType<typeof toJobError>,
    attempt: number,
    log: Logger,
  ): Promise<never> {
    const permanent = err instanceof PermanentError;
    const final = permanent || attempt >= (job.opts.attempts ?? 1);
    metrics.failures.inc({ reason: err.reason, retry: String(!final) });
    metrics.jobs.inc({ queue, outcome: final ? 'failed' : 'retried' });
    log.warn({ reason: err.reason, err: err.message, attempt, final }, 'job attempt failed');
    if (final) {
      const ids = { id: job.id ?? '', attempt, timestamp: job.timestamp };
      let event: CompletionEvent | undefined;
      try {
        event = failedEvent(parsePayload(job.data), ids, err, workerId);
      } catch {
        event = unreadablePayloadEvent(job.data, ids, err, workerId);
        if (!event)
          log.error('invalid payload without a run id: no job.failed event can describe it');
      }
      // If this publish fails, BullMQ retries the job (when attempts remain) and it fails again.
      if (event) await publish(event);
    }
    if (permanent) throw new UnrecoverableError(`${err.reason}: ${err.message}`);
    throw err;
  }

  const workerOptions = {
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    // Renewed every half of it. Heavy work runs in threads, so renewals are never late.
    lockDuration: opts.lockDuration ?? config.WORKER_LOCK_MS,
    stalledInterval: opts.stalledInterval ?? config.WORKER_STALLED_INTERVAL_MS,
    // A job whose worker died is taken again once, then fails ('stalled', see stall-watch.ts).
    maxStalledCount: 1,
  };
  const queues = config.WORKER_QUEUES.map((q) => QUEUES[q]);
  const workers = queues.map((queue) => {
    const worker = new Worker(queue, processor(queue), workerOptions);
    worker.on('error', (err) => logger.error({ queue, err: err.message }, 'worker error'));
    return worker;
  });
  const watchers: QueueEvents[] = workers.map((w) =>
    watchStalledFailures(w, redis, publish, workerId, logger),
  );

  let ready = false;
  let closing = false;
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      logger.info('worker closing: finishing in-flight jobs');
      // worker.close() stops fetching and waits for the active jobs (they need the batcher,
      // the threads, S3 and Redis, so those close after).
      await Promise.all(workers.map((w) => w.close()));
      await batcher.close();
      await Promise.all(watchers.map((w) => w.close()));
      await Promise.all([auditQueue.close(), flow.close()]);
      await Promise.all([runtime.close(), images.close()]);
      await server?.close();
      store.close();
      await redis.quit().catch(() => redis.disconnect());
      logger.info('worker closed');
    })();
    return closed;
  };

  try {
    const metricsPort = opts.metricsPort ?? config.WORKER_METRICS_PORT ?? config.METRICS_PORT;
    // Listening before Redis is reached: /readyz answers 503 until the worker consumes; /healthz
    // (liveness) does not depend on Redis, so an outage does not restart every worker at once.
    if (metricsPort !== undefined) {
      server = await startMetricsServer(registry, metricsPort, config.HOST, {
        live: () => runtime.healthy && images.healthy,
        ready: () =>
          ready && !closing && runtime.healthy && images.healthy && redis.status === 'ready',
        provider,
      });
    }
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    ready = true;
  } catch (err) {
    await close();
    throw err;
  }
  logger.info(
    {
      queues,
      concurrency: config.WORKER_CONCURRENCY,
      batchSize: config.BATCH_SIZE,
      executionProvider: provider.active,
      metricsPort: server?.port,
    },
    'worker started',
  );
  return { close, port: server?.port, registry, metrics };
}
