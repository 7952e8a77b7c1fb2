import type { ObjectStore } from '@camflow/storage';
import { type ExplainItem, pinnedSource } from '../enqueue.js';
import type { ManifestEntry } from './manifest-parser.js';

/**
 * Looks up each entry's ETag (HEAD, `concurrency` at a time) so keys and manifest runs get the
 * same content-pinned job ids as a prefix listing. A missing object is still queued, unpinned:
 * the worker then reports it as a not-found failure of the run instead of it silently vanishing.
 */
export async function pinEntries(
  store: ObjectStore,
  bucket: string,
  entries: ManifestEntry[],
  concurrency: number,
): Promise<ExplainItem[]> {
  const out = new Array<ExplainItem>(entries.length);
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const i = next++;
      const { key, label, labels } = entries[i];
      const info = await store.head(bucket, key);
      const item: ExplainItem = { source: pinnedSource(bucket, key, info?.etag, info?.versionId) };
      if (label !== undefined) item.label = label;
      if (labels !== undefined) item.labels = labels;
      out[i] = item;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, lane));
  return out;
}
