import { keyViolation, type RunRecord } from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';
import { type ExplainItem, pinnedSource } from '../enqueue.js';
import { withFolderLabels } from './folder-expansion.js';
import { readLines } from './lines.js';
import { type ManifestEntry, ManifestParser } from './manifest-parser.js';
import { pinEntries } from './pin.js';

/** The cursor saved once the last page is enqueued (S3 tokens and line numbers never equal it). */
export const LISTING_END = '<end>';

/** One page of a run's source, and where listing resumes after it. */
export interface SourcePage {
  items: ExplainItem[];
  cursor: string;
  /** Manifest lines that could not be read (skipped, counted). */
  invalid: number;
}

/** Page size and HEAD concurrency of a source. */
export interface SourceOptions {
  pageSize: number;
  headConcurrency: number;
}

/**
 * The pages of a run's source from `cursor` on: an S3 listing of the prefix (the cursor is the
 * continuation token), the explicit keys (an index) or the manifest's lines (a line number).
 * Pages are produced on demand, so nothing beyond one page is held.
 */
export function sourcePages(
  store: ObjectStore,
  record: RunRecord,
  cursor: string,
  opts: SourceOptions,
): AsyncGenerator<SourcePage> {
  if (record.labels)
    return withFolderLabels(
      sourcePages(store, { ...record, labels: undefined }, cursor, opts),
      record.labels.classes,
    );
  const { bucket, keys, manifest, prefix } = record.source;
  if (cursor === LISTING_END) return (async function* () {})();
  if (keys) return keyPages(store, bucket, keys, Number(cursor || 0), opts);
  if (manifest) return manifestPages(store, bucket, manifest, Number(cursor || 0), opts);
  return prefixPages(store, bucket, prefix ?? '', cursor || undefined, opts);
}

async function* prefixPages(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  token: string | undefined,
  opts: SourceOptions,
): AsyncGenerator<SourcePage> {
  let next = token;
  do {
    const page = await store.list(bucket, prefix, next, opts.pageSize);
    next = page.next;
    // "Folder" placeholder objects are not images.
    const objects = page.objects.filter((o) => !o.key.endsWith('/'));
    // A listed key can break the key policy too (written to the server directly): skipped, counted.
    const safe = objects.filter((o) => keyViolation(o.key) === undefined);
    const items = safe.map((o) => ({ source: pinnedSource(bucket, o.key, o.etag, o.versionId) }));
    yield { items, cursor: next ?? LISTING_END, invalid: objects.length - safe.length };
  } while (next);
}

async function* keyPages(
  store: ObjectStore,
  bucket: string,
  keys: string[],
  from: number,
  opts: SourceOptions,
): AsyncGenerator<SourcePage> {
  for (let i = from; i < keys.length; i += opts.pageSize) {
    const end = Math.min(i + opts.pageSize, keys.length);
    const entries = keys.slice(i, end).map((key) => ({ key }));
    const items = await pinEntries(store, bucket, entries, opts.headConcurrency);
    yield { items, cursor: end === keys.length ? LISTING_END : String(end), invalid: 0 };
  }
}

async function* manifestPages(
  store: ObjectStore,
  bucket: string,
  manifest: string,
  skipLines: number,
  opts: SourceOptions,
): AsyncGenerator<SourcePage> {
  const stream = await store.getStream(bucket, manifest);
  const parser = new ManifestParser(bucket);
  let line = 0;
  let entries: ManifestEntry[] = [];
  let invalid = 0;
  try {
    for await (const text of readLines(stream)) {
      line++;
      // Skipped lines are still parsed: the first ones decide the format and the header.
      const parsed = parser.parse(text);
      if (line <= skipLines) continue;
      if ('entry' in parsed) entries.push(parsed.entry);
      else if ('invalid' in parsed) invalid++;
      if (line % opts.pageSize === 0) {
        const items = await pinEntries(store, bucket, entries, opts.headConcurrency);
        yield { items, cursor: String(line), invalid };
        entries = [];
        invalid = 0;
      }
    }
  } finally {
    stream.destroy();
  }
  const items = await pinEntries(store, bucket, entries, opts.headConcurrency);
  yield { items, cursor: LISTING_END, invalid };
}
