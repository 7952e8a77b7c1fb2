/**
 * The paired sign test: per image, the region's effect minus its controls' mean effect; under
 * "the region is no different from its controls" positive and negative differences are equally
 * likely. One-sided p-value of at least `k` positives among `n` non-zero differences.
 */
export function signTest(
  differences: readonly number[],
  tolerance = 1e-6,
): { n: number; positive: number; p: number } {
  const nonzero = differences.filter((d) => Math.abs(d) > tolerance);
  const n = nonzero.length;
  const k = nonzero.filter((d) => d > 0).length;
  return { n, positive: k, p: binomialTail(n, k) };
}

/** P(X >= k) for X ~ Binomial(n, 1/2), summed in log space. */
export function binomialTail(n: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let logC = 0; // log C(n, j), starting at j = 0
  const terms: number[] = [];
  for (let j = 0; j <= n; j++) {
    if (j > 0) logC += Math.log(n - j + 1) - Math.log(j);
    if (j >= k) terms.push(logC - n * Math.LN2);
  }
  const max = Math.max(...terms);
  return Math.min(1, Math.exp(max) * terms.reduce((a, t) => a + Math.exp(t - max), 0));
}

/**
 * The Wilcoxon signed-rank test (one-sided: differences tend to be positive), exact: the null
 * distribution of the positive rank sum by dynamic programming over the ranks (doubled, so tied
 * |d| share half-integer mean ranks). Zero differences are dropped. More power than the sign test
 * on a handful of carriers, because a large drop counts for more than a small one.
 */
export function wilcoxonSignedRank(
  differences: readonly number[],
  tolerance = 1e-6,
): { n: number; w: number; p: number } {
  const d = differences.filter((x) => Math.abs(x) > tolerance);
  const n = d.length;
  if (n === 0) return { n: 0, w: 0, p: 1 };
  const order = d.map((x, i) => ({ a: Math.abs(x), i })).sort((p, q) => p.a - q.a);
  const rank2 = new Array<number>(n); // twice the mean rank
  for (let k = 0; k < n; ) {
    let e = k;
    while (e + 1 < n && Math.abs(order[e + 1].a - order[k].a) <= tolerance) e++;
    for (let m = k; m <= e; m++) rank2[order[m].i] = k + 1 + e + 1;
    k = e + 1;
  }
  const w2 = d.reduce((s, x, i) => s + (x > 0 ? rank2[i] : 0), 0);
  const total = rank2.reduce((a, b) => a + b, 0);
  // counts[s] = number of sign assignments whose positive doubled-rank sum is s.
  let counts = new Float64Array(total + 1);
  counts[0] = 1;
  for (const r of rank2) {
    const next = new Float64Array(total + 1);
    for (let s = 0; s <= total; s++) {
      if (counts[s] === 0) continue;
      next[s] += counts[s];
      next[s + r] += counts[s];
    }
    counts = next;
  }
  let tail = 0;
  for (let s = w2; s <= total; s++) tail += counts[s];
  return { n, w: w2 / 2, p: Math.min(1, tail / 2 ** n) };
}
