// Inputs for the pipeline benchmark: 1024x1024 JPEG phantoms (cached across runs: each takes
// about a second to synthesise), uploads, and large key sets seeded straight into s3rver's folder.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { synthesizeSample } from '@camflow/imaging';
import sharp from 'sharp';

/** `count` distinct 1024x1024 grey phantoms as JPEG (quality 90), cached in `cacheDir`. */
export async function phantomJpegs(cacheDir, count, seed) {
  await mkdir(cacheDir, { recursive: true });
  const out = [];
  for (let i = 0; i < count; i++) {
    const file = join(cacheDir, `phantom-1024-s${seed}-${String(i).padStart(3, '0')}.jpg`);
    if (!existsSync(file)) {
      const s = synthesizeSample({ count, seed, size: 1024 }, i);
      const jpeg = await sharp(
        Buffer.from(s.image.buffer, s.image.byteOffset, s.image.byteLength),
        {
          raw: { width: s.size, height: s.size, channels: 1 },
        },
      )
        .jpeg({ quality: 90 })
        .toBuffer();
      await writeFile(file, jpeg);
    }
    out.push({ file, bytes: new Uint8Array(await readFile(file)) });
  }
  return out;
}

/** PUTs `keys[i]` = `jpegs[i % n]` through the S3 API, `concurrency` at a time. */
export async function uploadImages(store, bucket, keys, jpegs, concurrency = 16) {
  let next = 0;
  const lane = async () => {
    while (next < keys.length) {
      const i = next++;
      await store.put(bucket, keys[i], jpegs[i % jpegs.length].bytes, 'image/jpeg');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** `<prefix>p<ddd>/k<nnnnnn>.<ext>`: 1000 keys a folder, sorted as S3 lists them. */
export function seededKey(prefix, i, ext) {
  return `${prefix}p${String(Math.floor(i / 1000)).padStart(3, '0')}/k${String(i).padStart(6, '0')}.${ext}`;
}

/**
 * Writes `count` objects under `prefix` directly in s3rver's folder layout (`<key>._S3rver_object`
 * plus its `.md5`; s3rver serves such files like uploaded ones). 100k PUTs through s3rver's HTTP
 * API take minutes on a small machine; this takes seconds, and the listing the ingest service
 * then does still goes through the S3 API. `body(i)` gives the content, or `source(i)` a file to
 * hard-link (no copies of 10k images on disk) with its md5.
 */
export async function seedObjects(s3dir, bucket, prefix, count, ext, content) {
  for (let start = 0; start < count; start += 1000) {
    const folder = join(s3dir, bucket, ...seededKey(prefix, start, ext).split('/').slice(0, -1));
    await mkdir(folder, { recursive: true });
    const ops = [];
    for (let i = start; i < Math.min(start + 1000, count); i++) {
      const name = seededKey(prefix, i, ext).split('/').pop();
      const path = join(folder, `${name}._S3rver_object`);
      const c = content(i);
      if (c.link) {
        ops.push(link(c.link, path), writeFile(`${path}.md5`, c.md5));
      } else {
        ops.push(writeFile(path, c.body), writeFile(`${path}.md5`, md5(c.body)));
      }
    }
    await Promise.all(ops);
  }
}

/** Hex MD5 (an S3 ETag for a single-part upload). */
export function md5(bytes) {
  return createHash('md5').update(bytes).digest('hex');
}
