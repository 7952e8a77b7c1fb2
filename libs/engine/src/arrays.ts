/** Row-wise argmax of [rows, k] scores. */
export function argmaxRows(scores: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < scores.length / k; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores[r * k + j] > scores[r * k + best]) best = j;
    out.push(best);
  }
  return out;
}

/** The chunks of a batch's outputs joined. */
export function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
