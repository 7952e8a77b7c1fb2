/**
 * Output layout in the output bucket, per source object and per job (the job id hashes the
 * model, layer, method, target and the object's version), so outputs of different buckets or
 * settings never collide and a retry overwrites its own files:
 *
 *   explanations/<source bucket>/<source key, each segment percent-encoded>/<jobId>/
 *     overlay.png  heatmap.png  result.json
 *
 * Encoding each key segment keeps `..`, empty segments, spaces and unicode from ever forming a
 * path outside the prefix (s3rver and MinIO map keys onto a file system).
 */
export function outputPrefix(bucket: string, key: string, jobId: string): string {
  return `explanations/${safeSegment(bucket)}/${key.split('/').map(safeSegment).join('/')}/${jobId}`;
}

export function outputKeys(bucket: string, key: string, jobId: string) {
  const p = outputPrefix(bucket, key, jobId);
  return {
    overlayKey: `${p}/overlay.png`,
    heatmapKey: `${p}/heatmap.png`,
    resultKey: `${p}/result.json`,
  };
}

/** One path segment, percent-encoded; `.`, `..` and empty segments cannot pass through. */
export function safeSegment(segment: string): string {
  if (segment === '') return '%00';
  if (segment === '.') return '%2E';
  if (segment === '..') return '%2E%2E';
  return encodeURIComponent(segment);
}
