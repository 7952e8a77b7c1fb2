// The results API under a bounded loopback load: autocannon, a fixed duration and a few
// connections per route, one route at a time.
import autocannon from 'autocannon';

/** Loads `url` (127.0.0.1 only) for `seconds` with `connections`; returns req/s and latency. */
export async function loadRoute(url, token, { seconds, connections }) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only: ${url}`);
  const r = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    seconds: r.duration,
    connections,
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    latencyMs: {
      p50: r.latency.p50,
      p99: r.latency.p99,
      mean: r.latency.average,
      max: r.latency.max,
    },
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

/**
 * Milliseconds to presign `n` GET URLs in this process (median of `reps`, after as many warm-up
 * rounds, as a long-running server is warm): what a results page pays for its overlay links,
 * measured with the same S3 client code the results API uses.
 */
export async function presignCost(store, bucket, n = 100, reps = 10) {
  const times = [];
  for (let r = 0; r < 2 * reps; r++) {
    const t = performance.now();
    await Promise.all(
      Array.from({ length: n }, (_, i) => store.presign(bucket, `load/${r}/${i}/overlay.png`, 900)),
    );
    if (r >= reps) times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(reps / 2)];
}
