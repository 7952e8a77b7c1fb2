import { createHash } from 'node:crypto';

/**
 * Output layout in the output bucket, per source object and per job (the job id hashes the
 * model, layer, method, target and the object's version), so outputs of different buckets or
 * settings never collide and a retry overwrites its own files:
 *
 *   explanations/<source bucket>/<source key, each segment percent-encoded>/<jobId>/
 *     overlay.<jpg|png|webp>  heatmap.png  result.json
 *
 * Encoding each key segment keeps `..`, empty segments, spaces and unicode from ever forming a
 * path outside the prefix (s3rver and MinIO map keys onto a file system).
 */
export function outputPrefix(bucket: string, key: string, jobId: string): string {
  return `explanations/${safeSegment(bucket)}/${keyPart(key)}/${jobId}`;
}

/** File systems behind s3rver/MinIO cap a name at 255 bytes; percent-encoding can triple one. */
const MAX_SEGMENT = 200;
/**
 * What the encoded source key may take of S3's 1024 bytes: the rest is `explanations/`, a
 * bucket (<= 63), the job id (41), a file name (<= 40 reserved) and the slashes between.
 */
const MAX_KEY_PART = 1024 - 13 - 63 - 41 - 40 - 3;

/**
 * The source key as output path segments, each percent-encoded; a long segment keeps a
 * readable prefix and gets a hash of itself, and a key whose encoding would still not fit
 * becomes one such segment, so no valid source key gives an invalid output key. (The job id
 * already makes the prefix unique; the hashes keep different long keys apart for readers.)
 */
function keyPart(key: string): string {
  const joined = key
    .split('/')
    .map((s) => bounded(safeSegment(s), s, MAX_SEGMENT))
    .join('/');
  return joined.length <= MAX_KEY_PART ? joined : bounded(safeSegment(key), key, MAX_SEGMENT);
}

function bounded(encoded: string, raw: string, max: number): string {
  if (encoded.length <= max) return encoded;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  // A readable prefix cut between characters, never inside one's escapes.
  let head = '';
  for (const ch of raw) {
    const next = head + safeSegment(ch);
    if (next.length > max - hash.length - 1) break;
    head = next;
  }
  return `${head}~${hash}`;
}

/** The overlay's file name extension follows its format (the worker's default is JPEG). */
export type OverlayExtension = 'png' | 'jpg' | 'webp';

export function outputKeys(
  bucket: string,
  key: string,
  jobId: string,
  overlay: OverlayExtension = 'png',
) {
  const p = outputPrefix(bucket, key, jobId);
  return {
    overlayKey: `${p}/overlay.${overlay}`,
    heatmapKey: `${p}/heatmap.png`,
    resultKey: `${p}/result.json`,
  };
}

/** Where target `target`'s overlay and heatmap go when a job has several targets. */
export function targetOutputKeys(
  bucket: string,
  key: string,
  jobId: string,
  target: number,
  overlay: OverlayExtension = 'png',
) {
  const p = outputPrefix(bucket, key, jobId);
  return {
    overlayKey: `${p}/overlay.t${target}.${overlay}`,
    heatmapKey: `${p}/heatmap.t${target}.png`,
  };
}

/** One path segment, percent-encoded; `.`, `..` and empty segments cannot pass through. */
export function safeSegment(segment: string): string {
  if (segment === '') return '%00';
  if (segment === '.') return '%2E';
  if (segment === '..') return '%2E%2E';
  return encodeURIComponent(segment);
}
