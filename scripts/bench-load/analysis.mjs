// Figures from the samples: worker RSS trend (first vs last quartile, slope), Redis memory,
// per-minute rows for the report.

/** Least-squares slope of y over x. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * RSS of process `name` over the samples taken while the run was processing (from its first
 * completion to its end): first and last quartile means (by time), the change between them,
 * the least-squares slope (MiB/min) over all of them and over the last three quarters (after
 * warm-up: model load, thread pools, allocator growth), min and max.
 */
export function rssTrend(samples, name) {
  const pts = samples
    .filter((s) => s.processing && s.rss[name] !== undefined)
    .map((s) => ({ t: s.t, v: s.rss[name] }));
  if (pts.length < 8) return undefined;
  const t0 = pts[0].t;
  const span = pts.at(-1).t - t0;
  const q = (lo, hi) => pts.filter((p) => p.t - t0 >= lo * span && p.t - t0 <= hi * span);
  const first = mean(q(0, 0.25).map((p) => p.v));
  const last = mean(q(0.75, 1).map((p) => p.v));
  const after = q(0.25, 1);
  return {
    samples: pts.length,
    firstQuartileMiB: first,
    lastQuartileMiB: last,
    changePercent: ((last - first) / first) * 100,
    slopeMiBPerMin: slope(
      pts.map((p) => p.t / 60),
      pts.map((p) => p.v),
    ),
    slopeAfterWarmupMiBPerMin: slope(
      after.map((p) => p.t / 60),
      after.map((p) => p.v),
    ),
    minMiB: Math.min(...pts.map((p) => p.v)),
    maxMiB: Math.max(...pts.map((p) => p.v)),
    heapFloorsMiB: heapFloors(samples, name),
  };
}

/**
 * The main thread's V8 heap floor (lowest sample, i.e. after a collection) in each quarter of
 * the processing time: garbage comes and goes, a leak raises the floor quarter after quarter.
 */
export function heapFloors(samples, name) {
  const pts = samples
    .filter((s) => s.processing && s.heap?.[name] !== undefined)
    .map((s) => ({ t: s.t, v: s.heap[name] }));
  if (pts.length < 8) return undefined;
  const t0 = pts[0].t;
  const span = pts.at(-1).t - t0;
  return [0, 1, 2, 3].map((i) =>
    Math.min(
      ...pts
        .filter((p) => p.t - t0 >= (i / 4) * span && p.t - t0 <= ((i + 1) / 4) * span)
        .map((p) => p.v),
    ),
  );
}

/** Seconds from the POST until the listing was done (the whole run enqueued), if seen. */
export function enqueuedAt(samples) {
  return samples.find((s) => s.listingDone)?.t;
}

/** Redis used_memory: before the run, peak, at the end of it. */
export function redisTrend(samples, beforeMiB, afterMiB) {
  const v = samples.map((s) => s.redisMiB).filter((x) => x !== undefined);
  return { beforeMiB, peakMiB: Math.max(beforeMiB, ...v), endMiB: afterMiB };
}

/**
 * One row per `stepS` seconds: images/s in that stretch, the stack's share of the machine's CPU
 * in it (all its processes together, % of `nproc` cores), Redis MiB, each worker's RSS.
 */
export function timeline(samples, workerNames, nproc, stepS = 30) {
  const rows = [];
  let prev = samples[0];
  for (const s of samples) {
    if (s !== samples.at(-1) && s.t - prev.t < stepS) continue;
    if (s === prev) continue;
    const done = (x) => (x.completed ?? 0) + (x.failed ?? 0);
    rows.push({
      t: Math.round(s.t),
      finished: done(s),
      perSecond: (done(s) - done(prev)) / (s.t - prev.t),
      cpuPercent: ((s.cpuS - prev.cpuS) / (s.t - prev.t) / nproc) * 100,
      redisMiB: s.redisMiB,
      rss: workerNames.map((n) => s.rss[n]),
      load1: s.load1,
    });
    prev = s;
  }
  return rows;
}
