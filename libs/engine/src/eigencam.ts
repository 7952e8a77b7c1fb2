/**
 * EigenCAM for one image: the activations as a [HW, C] matrix, centred over the HW rows,
 * projected on their first right singular vector v, then ReLU. An SVD's sign is arbitrary: v is
 * flipped to point along the mean activation (v . mean >= 0), else, when that is degenerate, so
 * that the projection's largest entry is positive (the reference's convention). Computed through the HW x HW Gram matrix, whose top
 * eigenvector u gives the projection as sigma u.
 */
export function eigenCam(
  acts: Float32Array,
  channels: number,
  area: number,
  offset = 0,
): Float32Array {
  // Centring over the HW rows of [HW, C] means: per channel, across positions.
  const centred = new Float64Array(channels * area);
  const means = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    const base = offset + c * area;
    for (let p = 0; p < area; p++) mean += acts[base + p];
    mean /= area;
    means[c] = mean;
    for (let p = 0; p < area; p++) centred[c * area + p] = acts[base + p] - mean;
  }
  const gram = new Float64Array(area * area);
  for (let c = 0; c < channels; c++) {
    const row = c * area;
    for (let i = 0; i < area; i++) {
      const v = centred[row + i];
      if (v === 0) continue;
      for (let j = 0; j < area; j++) gram[i * area + j] += v * centred[row + j];
    }
  }
  const { vector, value } = topEigen(gram, area);
  const sigma = Math.sqrt(Math.max(value, 0));
  // v = Mc^T u / sigma, so sign(v . mean) = sign(sum_p u_p (Mc mean)_p).
  let along = 0;
  let meanNorm = 0;
  for (let c = 0; c < channels; c++) meanNorm += means[c] * means[c];
  for (let p = 0; p < area; p++) {
    let dot = 0;
    for (let c = 0; c < channels; c++) dot += centred[c * area + p] * means[c];
    along += vector[p] * dot;
  }
  let sign = along < 0 ? -1 : 1;
  if (Math.abs(along) <= 1e-12 * Math.sqrt(meanNorm) * sigma) {
    let peak = 0;
    for (let p = 0; p < area; p++) if (Math.abs(vector[p]) > Math.abs(vector[peak])) peak = p;
    sign = vector[peak] < 0 ? -1 : 1;
  }
  const out = new Float32Array(area);
  for (let i = 0; i < area; i++) out[i] = Math.max(0, sign * sigma * vector[i]);
  return out;
}

/** Largest eigenpair of a symmetric positive semi-definite matrix, by power iteration. */
function topEigen(m: Float64Array, n: number): { vector: Float64Array; value: number } {
  let v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = 1 + ((i * 7919) % 13) / 13;
  let value = 0;
  for (let iter = 0; iter < 5000; iter++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += m[i * n + j] * v[j];
      next[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += next[i] * next[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return { vector: v.fill(0), value: 0 };
    let change = 0;
    for (let i = 0; i < n; i++) {
      next[i] /= norm;
      change = Math.max(change, Math.abs(next[i] - v[i]));
    }
    v = next;
    value = norm;
    if (change < 1e-12) break;
  }
  return { vector: v, value };
}

/** EigenCAM of each image of [N, C, h, w] activations: [N, h, w]. */
export function eigenCams(acts: { data: Float32Array; dims: number[] }): {
  data: Float32Array;
  dims: number[];
} {
  const [n, c, ...spatial] = acts.dims;
  const area = spatial.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n * area);
  for (let i = 0; i < n; i++) data.set(eigenCam(acts.data, c, area, i * c * area), i * area);
  return { data, dims: [n, ...spatial] };
}
