import { isIP } from 'node:net';
import { z } from 'zod';
import { placeholderProblem } from './placeholders.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number) => z.coerce.number().int().min(min);
/** An IP literal (`127.0.0.1`, `0.0.0.0`, `::`, `::1`) or a host name that resolves locally. */
const bindAddress = z
  .string()
  .refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(v), {
    message: 'expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name',
  });
const QUEUE_NAMES = ['realtime', 'bulk'] as const;

/** Every environment variable camflow reads (ARCHITECTURE.md, "Services, configuration"). */
export const envSchema = z.object({
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  S3_ENDPOINT: z.string().url().optional(),
  /**
   * The S3 origin that browsers reach, for presigned URLs (reports, overlayUrl); unset = the
   * S3_ENDPOINT the services use (e.g. `http://minio:9000` inside a cluster).
   */
  S3_PUBLIC_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  CAMFLOW_OUTPUT_BUCKET: z.string().default('camflow-outputs'),
  CAMFLOW_MODEL_BUCKET: z.string().default('camflow-models'),
  /** Bind address of every listener: 127.0.0.1 for local runs, 0.0.0.0 (or `::`) in containers. */
  HOST: bindAddress.default('127.0.0.1'),
  INGEST_PORT: int(0).default(8080),
  RESULTS_PORT: int(0).default(8081),
  /**
   * Ingest and results API: a second, internal listener for `/metrics`, `/healthz` and
   * `/readyz` without a token (Prometheus, probes); unset = none (they stay on the API port).
   */
  METRICS_PORT: int(0).optional(),
  /** `cuda!` (or `webgpu!`) = that provider or refuse to start, like REQUIRE_PROVIDER=true. */
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda', 'webgpu']).default('cpu'),
  /** Refuse to start when EXECUTION_PROVIDER is unavailable (default: fall back to CPU, warn). */
  REQUIRE_PROVIDER: bool.default('false'),
  BATCH_SIZE: int(1).default(8),
  WORKER_CONCURRENCY: int(1).default(8),
  /** Threads per ONNX Runtime op; unset = one per core. */
  CAMFLOW_INTRA_OP_THREADS: int(1).optional(),
  /** Worker threads for decoding and rendering; unset = the pod's CPU quota (else cores) - 1. */
  WORKER_IMAGE_THREADS: int(1).optional(),
  /**
   * Which explain queues this worker consumes (`realtime`, `bulk`, comma-separated): lets a
   * fleet own its queues (e.g. GPU workers on bulk, CPU workers on realtime).
   */
  WORKER_QUEUES: z
    .string()
    .transform((v) => [...new Set(v.split(',').map((s) => s.trim()))].filter(Boolean))
    .pipe(z.array(z.enum(QUEUE_NAMES)).min(1))
    .default('realtime,bulk'),
  /** Worker metrics and health listener (unset: none). */
  WORKER_METRICS_PORT: int(0).optional(),
  /**
   * How soon a dead worker's jobs run again: BullMQ's job lock and stalled-job check (ms). A
   * killed worker's jobs are taken again within the lock plus up to two checks.
   */
  WORKER_LOCK_MS: int(1000).default(60_000),
  WORKER_STALLED_INTERVAL_MS: int(1000).default(30_000),
  /** Completion events a dead results API left pending are reclaimed after this idle time (ms). */
  RESULTS_CLAIM_IDLE_MS: int(1000).default(60_000),
  /** Where workers cache models pulled from the model bucket. */
  CAMFLOW_CACHE_DIR: z.string().optional(),
  /** For the operator CLI (`camflow runs ...`): where the services are and the token to use. */
  CAMFLOW_INGEST_URL: z.string().url().optional(),
  CAMFLOW_RESULTS_URL: z.string().url().optional(),
  CAMFLOW_TOKEN: z.string().optional(),
  CAMFLOW_API_TOKENS: z.string().optional(),
  CAMFLOW_EVENT_RULES: z.string().optional(),
  /**
   * Signs the results API's read-only browser links to a run's report; unset: derived from
   * CAMFLOW_API_TOKENS (every instance with the same tokens agrees; changing them revokes links).
   */
  CAMFLOW_LINK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** `camflow serve dicom`: the C-STORE SCP's port and AE title, and who may send (JSON array). */
  DICOM_PORT: int(0).default(11112),
  DICOM_AE_TITLE: z.string().min(1).max(16).default('CAMFLOW'),
  DICOM_ALLOWED_AETS: z.string().default('["*"]'),
  /** JSON routing rules and destinations (contracts: parseDicomRules, parseDicomDestinations). */
  CAMFLOW_DICOM_RULES: z.string().optional(),
  CAMFLOW_DICOM_DESTINATIONS: z.string().optional(),
  /** Where received instances are stored (default: CAMFLOW_OUTPUT_BUCKET). */
  CAMFLOW_DICOM_BUCKET: z.string().optional(),
});

export type Config = z.infer<typeof envSchema>;

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once, at start-up; nothing else reads process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((k) =>
      env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]],
    ),
  );
  // `EXECUTION_PROVIDER=cuda!`: the provider, required.
  const provider = picked.EXECUTION_PROVIDER;
  if (provider?.endsWith('!')) {
    picked.EXECUTION_PROVIDER = provider.slice(0, -1);
    picked.REQUIRE_PROVIDER = 'true';
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  const placeholder = placeholderProblem(parsed.data);
  if (placeholder) throw new ConfigError(placeholder);
  return parsed.data;
}
