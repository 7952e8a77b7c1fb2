// Samples the running system every few seconds: run progress (GET /v1/runs/:id), Redis
// used_memory (INFO memory), each service process's VmRSS (/proc/<pid>/status), load average.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';

/** VmRSS of a process in MiB (undefined once it is gone). */
export async function rssMiB(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The main thread's V8 heap in use (MiB), from a worker's Prometheus default metrics. */
export async function heapUsedMiB(metricsUrl) {
  try {
    const r = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(await r.text());
    return m ? Number(m[1]) / 1024 / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Redis used_memory in MiB. */
export async function redisUsedMiB(redis) {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]) / 1024 / 1024;
}

/**
 * Starts sampling every `intervalMs`; `stop()` ends it and returns the samples
 * `{t (s since start), completed, failed, total, redisMiB, rss: {name: MiB}, heap: {name: MiB}, load1}`
 * (heap: main-thread V8 heap in use, for processes with a `metricsUrl`; cpuS: CPU seconds used
 * so far by all of `cpuPids` together).
 */
export function startSampler({ redis, status, procs, cpuPids = {}, intervalMs, t0 }) {
  const samples = [];
  let stopped = false;
  let timer;
  const tick = async () => {
    const [s, redisMiB, rss, heap, cpu] = await Promise.all([
      status().catch(() => undefined),
      redisUsedMiB(redis).catch(() => undefined),
      Promise.all(procs.map(async (p) => [p.name, await rssMiB(p.pid)])),
      Promise.all(
        procs
          .filter((p) => p.metricsUrl)
          .map(async (p) => [p.name, await heapUsedMiB(p.metricsUrl)]),
      ),
      cpuOf(cpuPids),
    ]);
    samples.push({
      t: (Date.now() - t0) / 1000,
      completed: s?.completed,
      failed: s?.failed,
      total: s?.total,
      status: s?.status,
      listingDone: s?.listingDone,
      redisMiB,
      rss: Object.fromEntries(rss),
      heap: Object.fromEntries(heap),
      cpuS: Object.values(cpu).reduce((a, b) => a + (b ?? 0), 0),
      load1: loadavg()[0],
    });
    if (!stopped)
      timer = setTimeout(() => {
        current = tick();
      }, intervalMs);
  };
  let current = tick();
  return {
    samples,
    /** The latest sample. */
    last: () => samples.at(-1),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      return samples;
    },
  };
}

/** User + system CPU seconds a process has used so far (undefined once it is gone). */
export async function cpuSeconds(pid, ticksPerSecond = 100) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each named pid. */
export async function cpuOf(pids) {
  const out = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = await cpuSeconds(pid);
  return out;
}
