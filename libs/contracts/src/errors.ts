/**
 * A job that can never succeed (corrupt image, unknown layer, missing object): it fails at
 * once, without retries, with `reason` as a short machine-readable code.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** A fault that may pass (S3 or Redis unreachable, throttling): retried with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'Throttling',
]);

/**
 * The one place that decides permanent vs transient. Unknown errors count as transient (retrying
 * a bug a few times is cheaper than losing a job to a network blip); typed errors decide.
 */
export function classifyError(err: unknown): PermanentError | TransientError {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    permanent?: boolean;
    $metadata?: { httpStatusCode?: number };
  };
  const message = String(e?.message ?? err).split('\n')[0];
  if (e?.permanent === true) return new PermanentError(e.name ?? 'permanent', message);
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound' || status === 404) {
    return new PermanentError('not-found', message);
  }
  if (e?.name === 'AccessDenied' || status === 403)
    return new PermanentError('access-denied', message);
  const code = e?.code ?? e?.name ?? '';
  if (TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500))
    return new TransientError(code || 'server-error', message);
  return new TransientError(e?.name ?? 'error', message);
}
