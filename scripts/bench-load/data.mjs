// The load benchmark's data: `distinct` synthetic chest phantoms (PNG) uploaded through the S3
// API under `count` distinct keys (the bytes repeat; the keys, and so the jobs, do not).
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';

/** The key of image `i` (zero-padded so a listing returns them in order). */
export function imageKey(prefix, i) {
  return `${prefix}${String(i).padStart(6, '0')}.png`;
}

/** `distinct` PNG phantoms of `size` x `size`. */
export async function makePhantoms(distinct, size, seed = 11) {
  const out = [];
  for (let i = 0; i < distinct; i++) {
    const sample = synthesizeSample({ count: distinct, seed, size }, i);
    out.push((await encodeSamplePngs(sample)).image);
  }
  return out;
}

/** PUTs `count` keys, `concurrency` at a time; returns the keys and the seconds it took. */
export async function uploadImages(store, bucket, prefix, phantoms, count, concurrency = 32) {
  const t0 = performance.now();
  const keys = Array.from({ length: count }, (_, i) => imageKey(prefix, i));
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await store.put(bucket, keys[i], phantoms[i % phantoms.length], 'image/png');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { keys, seconds: (performance.now() - t0) / 1000 };
}
