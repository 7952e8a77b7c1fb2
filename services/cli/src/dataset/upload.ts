/**
 * Uploads what a local folder holds that the bucket does not, by content: a file is skipped when
 * an object with its key and the same MD5 is already there (the ETag of a plain PUT, as AWS S3,
 * MinIO and s3rver report it). So a second identical upload sends nothing, and one that was
 * interrupted resumes where it stopped. Files that are not images and keys that the key policy
 * refuses are reported with counts and examples, never uploaded.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyViolation } from '@camflow/contracts';
import type { ImageFormat } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';
import { ProgressBar } from '../progress.js';
import { UsageError } from '../usage.js';
import { CONTENT_TYPES, type LocalFile, type LocalTree } from './local-tree.js';

/** A count and a few examples. */
export interface Examples {
  count: number;
  examples: string[];
}

export interface UploadSummary {
  bucket: string;
  prefix: string;
  /** Image files found. */
  images: number;
  uploaded: number;
  uploadedBytes: number;
  /** Already there with the same content. */
  skipped: number;
  notImages: Examples;
  unsafeKeys: Examples;
  /** key -> MD5 hex of every image, uploaded or found (pins the content a run will see). */
  md5: Map<string, string>;
  seconds: number;
}

function note(e: Examples, key: string): void {
  e.count++;
  if (e.examples.length < 3) e.examples.push(key);
}

/** `s3://bucket/prefix` destination's prefix as keys start with it ('' or ending with '/'). */
export function keyPrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '');
  const v = keyViolation(p, { prefix: true });
  if (v) throw new UsageError(v.message);
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** The ETags under a prefix, unquoted, by key. */
export async function listEtags(
  store: ObjectStore,
  bucket: string,
  prefix: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let next: string | undefined;
  do {
    const page = await store.list(bucket, prefix, next);
    for (const o of page.objects) if (o.etag) out.set(o.key, o.etag.replaceAll('"', ''));
    next = page.next;
  } while (next);
  return out;
}

export async function uploadFolder(
  store: ObjectStore,
  tree: LocalTree,
  dest: { bucket: string; prefix: string },
  opts: { concurrency?: number; progress?: boolean } = {},
): Promise<UploadSummary> {
  const started = Date.now();
  const prefix = keyPrefix(dest.prefix);
  const s: UploadSummary = {
    bucket: dest.bucket,
    prefix,
    images: 0,
    uploaded: 0,
    uploadedBytes: 0,
    skipped: 0,
    notImages: { count: 0, examples: [] },
    unsafeKeys: { count: 0, examples: [] },
    md5: new Map(),
    seconds: 0,
  };
  const todo: (LocalFile & { key: string; format: ImageFormat })[] = [];
  for (const f of tree.files) {
    const key = `${prefix}${f.rel}`;
    if (keyViolation(key)) note(s.unsafeKeys, f.rel);
    else if (!f.format) note(s.notImages, f.rel);
    else todo.push({ ...f, key, format: f.format });
  }
  s.images = todo.length;
  await store.ensureBucket(dest.bucket);
  const there = await listEtags(store, dest.bucket, prefix);
  const bar = opts.progress ? new ProgressBar('upload') : undefined;
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < todo.length) {
      const f = todo[next++];
      const body = await readFile(f.path);
      const md5 = createHash('md5').update(body).digest('hex');
      s.md5.set(f.key, md5);
      if (there.get(f.key) === md5) s.skipped++;
      else {
        await store.put(dest.bucket, f.key, body, CONTENT_TYPES[f.format]);
        s.uploaded++;
        s.uploadedBytes += body.length;
      }
      bar?.update(++done, todo.length, `(${s.skipped} already there)`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, todo.length) }, lane));
  } catch (err) {
    throw new UsageError(
      `upload to s3://${dest.bucket}/${prefix} stopped after ${s.uploaded} files: ${(err as Error).message.split('\n')[0]}; the same command resumes it`,
    );
  } finally {
    bar?.done();
  }
  s.seconds = (Date.now() - started) / 1000;
  return s;
}

const examples = (e: Examples) => (e.examples.length ? ` (e.g. ${e.examples.join(', ')})` : '');

/** The summary line(s) a person reads. */
export function formatUpload(s: UploadSummary): string {
  const mb = (s.uploadedBytes / 1024 / 1024).toFixed(1);
  const lines = [
    `upload to s3://${s.bucket}/${s.prefix}: ${s.uploaded} uploaded (${mb} MiB), ${s.skipped} skipped as already there, ${s.notImages.count} not an image${examples(s.notImages)}, in ${s.seconds.toFixed(1)} s`,
  ];
  if (s.unsafeKeys.count)
    lines.push(
      `  ${s.unsafeKeys.count} files skipped: their keys break the key policy${examples(s.unsafeKeys)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The summary as JSON (`--json`). */
export function uploadJson(s: UploadSummary) {
  const { md5: _, ...rest } = s;
  return rest;
}
