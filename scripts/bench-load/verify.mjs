// After the run: every result through the public API (GET /v1/runs/:id/results, paged), checked
// against the uploaded keys (exactly one result per key), and the figures made from them.
import { redisKeys } from '@camflow/contracts';

/** GET with the bearer token; throws on a non-2xx answer. */
export async function getJson(url, token) {
  const r = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** Every result of a run, page by page (bounded: at most `maxPages`). */
export async function allResults(resultsUrl, runId, token, { limit = 1000, maxPages = 1000 } = {}) {
  const items = [];
  let cursor;
  let pages = 0;
  for (; pages < maxPages; pages++) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const page = await getJson(`${resultsUrl}/v1/runs/${runId}/results?${q}`, token);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return { items, pages: pages + 1 };
  }
  throw new Error(`results still paging after ${maxPages} pages`);
}

/** Lost (keys without a result), duplicated (keys or job ids with more than one), by status. */
export function checkExactlyOnce(keys, items) {
  const perKey = new Map(keys.map((k) => [k, 0]));
  let foreign = 0;
  for (const it of items) {
    const n = perKey.get(it.source.key);
    if (n === undefined) foreign++;
    else perKey.set(it.source.key, n + 1);
  }
  const counts = [...perKey.values()];
  const jobIds = new Set(items.map((i) => i.jobId));
  return {
    results: items.length,
    lost: counts.filter((n) => n === 0).length,
    duplicated: counts.filter((n) => n > 1).reduce((a, n) => a + n - 1, 0),
    duplicateJobIds: items.length - jobIds.size,
    foreign,
    completed: items.filter((i) => i.status === 'completed').length,
    failed: items.filter((i) => i.status === 'failed').length,
    retried: items.filter((i) => (i.attempts ?? 1) > 1).length,
  };
}

/** The q-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50/p95/p99/max of a list of milliseconds. */
export function latencySummary(ms) {
  return {
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    max: percentile(ms, 100),
    n: ms.length,
  };
}

/** Images per `windowS`-second window from the first finishedAt (the last may be partial). */
export function throughputWindows(finishedAts, windowS = 10) {
  if (finishedAts.length === 0) return [];
  const t0 = finishedAts.reduce((a, b) => Math.min(a, b));
  const span = (finishedAts.reduce((a, b) => Math.max(a, b)) - t0) / 1000;
  const counts = new Array(Math.floor(span / windowS) + 1).fill(0);
  for (const f of finishedAts) counts[Math.floor((f - t0) / 1000 / windowS)]++;
  return counts.map((images, i) => {
    const seconds = Math.min(windowS, span - i * windowS);
    return { start: i * windowS, seconds, images, perSecond: images / Math.max(seconds, 1) };
  });
}

/** Stages shown per time window (the rest are parts of these or negligible). */
const WINDOW_STAGES = ['fetch', 'prepare', 'queue', 'explain', 'render', 'upload', 'total'];

/**
 * In-worker job times (ms, job start -> outputs written) from the stored completion events in Redis: every
 * job's total, the mean of each stage, and stage means per `windowS` seconds of finishedAt.
 */
export async function workerJobTimes(redis, jobIds, t0, windowS = 60) {
  const totals = [];
  const stages = {};
  const windows = [];
  for (let i = 0; i < jobIds.length; i += 1000) {
    const chunk = jobIds.slice(i, i + 1000);
    const raw = await redis.mget(chunk.map((id) => redisKeys.result(id)));
    for (const r of raw) {
      const e = r ? JSON.parse(r) : undefined;
      const t = e?.timings;
      if (!t) continue;
      totals.push(t.total);
      for (const [k, v] of Object.entries(t)) {
        stages[k] ??= [];
        stages[k].push(v);
      }
      const w = Math.max(0, Math.floor((e.finishedAt - t0) / 1000 / windowS));
      windows[w] ??= { start: w * windowS, jobs: 0, sums: {} };
      windows[w].jobs++;
      for (const k of WINDOW_STAGES) windows[w].sums[k] = (windows[w].sums[k] ?? 0) + (t[k] ?? 0);
    }
  }
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    totals,
    stageMeans: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, mean(v)])),
    stageWindows: windows.filter(Boolean).map((w) => ({
      start: w.start,
      jobs: w.jobs,
      meansMs: Object.fromEntries(WINDOW_STAGES.map((k) => [k, w.sums[k] / w.jobs])),
    })),
  };
}
