// Small synthetic chest phantoms (64-256 px) for fault runs: a few distinct PNGs, uploaded under
// many keys (every key is its own job), so a run of hundreds of images is quick to prepare; and
// poison images that no decoder can take.
import { crc32, deflateSync } from 'node:zlib';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';

const SIZES = [64, 96, 128, 192, 256];

/** `count` distinct phantom PNGs, sizes cycling through 64..256 px. */
export async function phantomPngs(count = SIZES.length, seed = 11): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = SIZES[i % SIZES.length];
    out.push((await encodeSamplePngs(synthesizeSample({ count, seed, size }, i))).image);
  }
  return out;
}

/** Uploads `n` images as `<prefix>img-0000.png`...; returns the keys in order. */
export async function uploadImages(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  n: number,
): Promise<string[]> {
  const pngs = await phantomPngs();
  const keys = Array.from(
    { length: n },
    (_, i) => `${prefix}img-${String(i).padStart(4, '0')}.png`,
  );
  await store.ensureBucket(bucket);
  // 16 uploads at a time: quick, and gentle with s3rver.
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys
        .slice(i, i + 16)
        .map((key, j) => store.put(bucket, key, pngs[(i + j) % pngs.length], 'image/png')),
    );
  }
  return keys;
}

/** A valid PNG cut off halfway through its image data. */
export async function truncatedPng(): Promise<Buffer> {
  const [png] = await phantomPngs(1, 3);
  return png.subarray(0, Math.floor(png.length / 2));
}

/**
 * A PNG whose header declares `width` x `height` grey pixels (a decompression bomb when large)
 * followed by a few bytes of image data: decoders must refuse it before allocating.
 */
export function hugeDeclaredPng(width = 50_000, height = 50_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
