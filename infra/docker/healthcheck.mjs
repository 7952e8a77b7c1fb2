// Docker HEALTHCHECK for the camflow images. One image runs every service, so this finds out
// which one from the container's main command line (`... camflow.js serve <service>`, with or
// without an init in front of it) and asks it, with no token:
//   METRICS_PORT (or a worker's WORKER_METRICS_PORT) set: GET /readyz on that internal listener
//     (dependencies answer; the images set METRICS_PORT=9100);
//   otherwise ingest/results: GET /healthz on INGEST_PORT/RESULTS_PORT (the process answers).
// Anything else (a one-off `camflow explain ...`, a worker without a metrics port) is reported
// healthy: there is nothing to ask. Kubernetes ignores HEALTHCHECK and uses its own probes.
import { readFileSync } from 'node:fs';

function mainArgs() {
  for (const pid of ['1', String(process.ppid)]) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = args.indexOf('serve');
      if (i >= 0) return args.slice(i + 1);
    } catch {
      // not readable: try the next candidate
    }
  }
  return [];
}

const [service] = mainArgs();
const env = process.env;
// A wildcard bind address (every interface) is reached on loopback; a specific one as it is.
const bind = env.HOST || '127.0.0.1';
const host =
  bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
const ops = service === 'worker' ? env.WORKER_METRICS_PORT || env.METRICS_PORT : env.METRICS_PORT;
const api = { ingest: env.INGEST_PORT || 8080, results: env.RESULTS_PORT || 8081 }[service];
const target = !service
  ? ''
  : ops
    ? `http://${host}:${ops}/readyz`
    : api
      ? `http://${host}:${api}/healthz`
      : '';

if (!target) process.exit(0);
try {
  const res = await fetch(target, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`${target}: HTTP ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`${target}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
