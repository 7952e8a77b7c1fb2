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

/**
 * `count` uncompressed 16-bit DICOM films (explicit VR little endian, MONOCHROME2, 12 bits
 * stored, a window in the file) of `width` x `height`, a real chest film's size by default:
 * each of the cached phantoms `jpegs` stretched to that size (libvips bicubic) and spread over
 * 12 bits with a little noise. Written here (a few elements are all the decoder reads).
 */
export async function dicomFilms(jpegs, count, width = 2048, height = 2500) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const grey = await sharp(Buffer.from(jpegs[i % jpegs.length].bytes))
      .resize(width, height, { fit: 'fill', kernel: 'cubic' })
      .extractChannel(0)
      .raw()
      .toBuffer();
    const pixels = new Uint16Array(width * height);
    let state = 0x9e3779b9 ^ i;
    for (let p = 0; p < pixels.length; p++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      pixels[p] = Math.min(4095, grey[p] * 16 + (state >>> 28));
    }
    out.push({ bytes: dicomFile(width, height, pixels) });
  }
  return out;
}

/** A minimal Part 10 file: preamble, meta group, image pixel module, window, pixel data. */
function dicomFile(width, height, pixels) {
  const parts = [];
  const el = (group, elem, vr, bytes) => {
    const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
    const head = Buffer.alloc(long ? 12 : 8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(elem, 2);
    head.write(vr, 4, 'latin1');
    if (long) head.writeUInt32LE(bytes.length, 8);
    else head.writeUInt16LE(bytes.length, 6);
    parts.push(head, bytes);
  };
  const str = (s, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
  const us = (v) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return b;
  };
  const ul = (v) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const syntax = str('1.2.840.10008.1.2.1', '\0');
  const sopClass = str('1.2.840.10008.5.1.4.1.1.1.1', '\0');
  const sopInstance = str(`1.2.826.0.1.3680043.10.1234.${width}.${height}.${pixels[0]}`, '\0');
  // Group length of the meta group (0002,0000) counts the elements after it.
  const meta = [];
  const metaEl = (elem, vr, bytes) => meta.push([elem, vr, bytes]);
  metaEl(0x0001, 'OB', Buffer.from([0, 1]));
  metaEl(0x0002, 'UI', sopClass);
  metaEl(0x0003, 'UI', sopInstance);
  metaEl(0x0010, 'UI', syntax);
  const metaLength = meta.reduce((s, [, vr, b]) => s + (vr === 'OB' ? 12 : 8) + b.length, 0);
  parts.push(Buffer.alloc(128), Buffer.from('DICM', 'latin1'));
  el(0x0002, 0x0000, 'UL', ul(metaLength));
  for (const [elem, vr, bytes] of meta) el(0x0002, elem, vr, bytes);
  el(0x0008, 0x0016, 'UI', sopClass);
  el(0x0008, 0x0018, 'UI', sopInstance);
  el(0x0008, 0x0060, 'CS', str('DX'));
  el(0x0028, 0x0002, 'US', us(1));
  el(0x0028, 0x0004, 'CS', str('MONOCHROME2'));
  el(0x0028, 0x0010, 'US', us(height));
  el(0x0028, 0x0011, 'US', us(width));
  el(0x0028, 0x0100, 'US', us(16));
  el(0x0028, 0x0101, 'US', us(12));
  el(0x0028, 0x0102, 'US', us(11));
  el(0x0028, 0x0103, 'US', us(0));
  el(0x0028, 0x1050, 'DS', str('2048'));
  el(0x0028, 0x1051, 'DS', str('4096'));
  el(0x7fe0, 0x0010, 'OW', Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  return new Uint8Array(Buffer.concat(parts));
}
