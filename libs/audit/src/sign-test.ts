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
