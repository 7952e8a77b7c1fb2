/**
 * The internal operations listener every service can open next to its API: `GET /metrics`
 * (Prometheus text), `GET /healthz` (liveness: the process works) and `GET /readyz` (readiness:
 * its dependencies answer), with no token. It is meant for Prometheus and kubelet probes on a
 * port that no Ingress or Service routes to; bodies say ok or down per dependency, never why
 * (addresses and error texts go to the log).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A probe's answer: HTTP 200 when ok, 503 otherwise, with `body` as JSON. */
export interface ProbeResult {
  ok: boolean;
  body: Record<string, unknown>;
}

export interface OpsServerOptions {
  registry: Registry;
  port: number;
  host: string;
  live(): ProbeResult | Promise<ProbeResult>;
  ready(): ProbeResult | Promise<ProbeResult>;
}

export interface OpsServer {
  port: number;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}

/** Starts the listener; resolves once it accepts connections. */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const probe = (fn: () => ProbeResult | Promise<ProbeResult>) =>
      Promise.resolve()
        .then(fn)
        .then(
          (r) => send(r.ok ? 200 : 503, 'application/json', JSON.stringify(r.body)),
          () => send(503, 'application/json', JSON.stringify({ status: 'error' })),
        );
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', '');
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        () => send(500, 'text/plain', ''),
      );
    } else if (path === '/healthz') void probe(opts.live);
    else if (path === '/readyz') void probe(opts.ready);
    else send(404, 'text/plain', '');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        // Requests in flight (a probe answering "closing") finish; idle keep-alive sockets go
        // now, and any left after a second are cut (a probe never takes that long).
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}

/**
 * Runs `check` with a time limit: 'ok', or 'down' (reported to `onDown`, for the log) when it
 * throws or does not answer in time.
 */
export async function dependencyState(
  check: () => Promise<unknown>,
  onDown?: (err: unknown) => void,
  timeoutMs = 2000,
): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    onDown?.(err);
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
