// Docker HEALTHCHECK for the camflow image. One image runs every service, so this finds out
// which one from the container's main command line (`... camflow.js serve <service>`, with or
// without an init in front of it) and asks that service:
//   serve ingest   -> GET http://127.0.0.1:$INGEST_PORT/readyz   (default 8080)
//   serve results  -> GET http://127.0.0.1:$RESULTS_PORT/readyz  (default 8081)
//   serve worker   -> GET http://127.0.0.1:$WORKER_METRICS_PORT/healthz (only when that is set)
// Anything else (a one-off `camflow explain ...`, a worker without a metrics port) is reported
// healthy: there is nothing to ask. When CAMFLOW_TOKEN is set it is sent as a bearer token (for
// services that answer /readyz to authenticated callers only). Kubernetes ignores HEALTHCHECK
// and uses its own probes.
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
const target = {
  ingest: `http://127.0.0.1:${env.INGEST_PORT || 8080}/readyz`,
  results: `http://127.0.0.1:${env.RESULTS_PORT || 8081}/readyz`,
  worker: env.WORKER_METRICS_PORT ? `http://127.0.0.1:${env.WORKER_METRICS_PORT}/healthz` : '',
}[service];

if (!target) process.exit(0);
try {
  const headers = env.CAMFLOW_TOKEN ? { authorization: `Bearer ${env.CAMFLOW_TOKEN}` } : {};
  const res = await fetch(target, { headers, signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`${target}: HTTP ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`${target}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
