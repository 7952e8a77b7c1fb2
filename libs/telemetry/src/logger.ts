import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * A structured JSON logger (pino) for a service. Secrets never reach the logs: authorization
 * headers, tokens and presigned URLs are redacted by path.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        '*.token',
        'url',
        '*.url',
        'presignedUrl',
        '*.presignedUrl',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}
