import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { IngestDeps } from './deps.js';
import { HttpError } from './http-error.js';
import { registerDicomWebRoutes } from './routes/dicomweb.js';
import { registerEventRoutes } from './routes/events.js';
import { createGuards } from './routes/guards.js';
import { ingestReadiness, registerHealthRoutes } from './routes/health.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRunRoutes } from './routes/runs.js';

const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
/** Largest refused body still read to its end (beyond it the connection is cut). */
const MAX_DRAIN = 256 * 1024 * 1024;

/** The ingest HTTP app (routes in ARCHITECTURE.md); not listening yet. `ready`: its readiness. */
export function buildIngestApp(
  deps: IngestDeps,
  ready = ingestReadiness(deps, () => false),
): FastifyInstance {
  const app = Fastify({
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // Request lines may carry `?token=`: we log our own line, without the query string.
    logController: new LogController({ disableRequestLogging: true }),
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
  }) as unknown as FastifyInstance;

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const line = { method: req.method, route, status: reply.statusCode, ms: reply.elapsedTime };
    if (QUIET_ROUTES.has(route)) deps.logger?.debug(line, 'request');
    else deps.logger?.info(line, 'request');
  });

  // A body announced larger than the route takes: answer 413 at once, and read the rest of it
  // (up to MAX_DRAIN) so the client, still sending, gets the answer instead of a reset connection.
  app.addHook('onRequest', async (req, reply) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const limit = req.routeOptions.bodyLimit ?? deps.bodyLimit ?? 1024 * 1024;
    if (!(declared > limit)) return;
    // Keep the connection open while draining: closing it after the answer resets a client that
    // is still sending (EPIPE) before it reads the 413.
    if (declared <= MAX_DRAIN) req.raw.resume();
    else reply.header('connection', 'close');
    return reply.code(413).send({
      error: 'payload_too_large',
      message: `the body is ${declared} bytes; this route takes at most ${limit}`,
    });
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toHttpError(err);
    if (e.statusCode >= 500)
      deps.logger?.error({ err, route: req.routeOptions.url }, 'request failed');
    return reply.code(e.statusCode).send({ error: e.code, message: e.message, ...e.extra });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  const guards = createGuards(deps.tokens, deps.rateLimit ?? { max: 1200, windowMs: 60_000 });
  registerHealthRoutes(app, deps, guards, ready);
  registerRunRoutes(app, deps, guards);
  registerJobRoutes(app, deps, guards);
  registerModelRoutes(app, deps, guards);
  registerEventRoutes(app, deps, guards);
  if (deps.dicom) registerDicomWebRoutes(app, deps.dicom, guards);
  return app;
}

/** Maps what fastify and our handlers throw onto the `{error, message}` answers. */
function toHttpError(err: FastifyError): HttpError {
  if (err instanceof HttpError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'the body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'invalid_json', `malformed JSON: ${err.message}`);
  }
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return new HttpError(400, 'invalid_json', `malformed JSON: ${err.message}`);
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new HttpError(err.statusCode, 'bad_request', err.message);
  }
  if (isUnavailable(err)) {
    return new HttpError(503, 'unavailable', 'Redis or S3 is unreachable; retry later');
  }
  return new HttpError(500, 'internal', 'internal error; see the service log');
}

/** Redis or S3 down or overloaded: the client may retry (503), unlike a bug (500). */
function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '')) return true;
  return (e.$metadata?.httpStatusCode ?? 0) >= 500;
}
