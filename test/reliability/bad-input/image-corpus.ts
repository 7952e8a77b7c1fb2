// The bad-input image corpus, made in memory (no committed binaries): each case is an object to
// upload and the outcome the pipeline must give it.
import { deflateSync } from 'node:zlib';
import { encodeSamplePngs, synthesizeSample } from '@camflow/imaging';
import sharp from 'sharp';
import { SYNTAX, writeDicom } from '../../../libs/imaging/test/helpers/dicom-writer.js';
import { pngFile } from '../../../libs/imaging/test/helpers/pixels.js';

/** Success: an overlay at the source's resolution. Failure: a permanent reason after 1 attempt. */
export type Expected =
  | { status: 'completed'; width: number; height: number }
  | { status: 'failed'; reason: string; message: RegExp };

export interface ImageCase {
  name: string;
  /** Object key under the corpus prefix (the extension is what a user would see). */
  file: string;
  bytes: Uint8Array;
  expected: Expected;
}

const ok = (width: number, height: number): Expected => ({ status: 'completed', width, height });
const fails = (reason: string, message: RegExp): Expected => ({
  status: 'failed',
  reason,
  message,
});

/** Builds every image case (about 0.2 s; everything is small). */
export async function imageCorpus(): Promise<ImageCase[]> {
  const base = Buffer.from(
    (await encodeSamplePngs(synthesizeSample({ count: 1, seed: 11, size: 96 }, 0))).image,
  );
  const rgb = await sharp(base)
    .resize(120, 80, { fit: 'fill' })
    .toColourspace('srgb')
    .png()
    .toBuffer();
  const jpeg = await sharp(rgb).jpeg({ quality: 90 }).toBuffer();
  const grey16 = await sharp(base).toColourspace('grey16').png().toBuffer();
  const negative = await sharp(base).negate().png().toBuffer();
  const frames = [base, negative];
  const dicomPixels = Array.from({ length: 48 * 32 }, (_, i) => (i * 37) % 4096);

  return [
    {
      name: 'zero bytes',
      file: 'empty.png',
      bytes: new Uint8Array(0),
      expected: fails('empty', /0 bytes/),
    },
    {
      name: 'truncated PNG (first 60%)',
      file: 'truncated.png',
      bytes: rgb.subarray(0, Math.floor(rgb.length * 0.6)),
      expected: fails('truncated', /PNG data is truncated/),
    },
    {
      name: 'truncated JPEG (first 60%)',
      file: 'truncated.jpg',
      bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
      expected: fails('truncated', /JPEG data is truncated/),
    },
    {
      name: 'PNG with a garbled IDAT',
      file: 'garbled.png',
      bytes: garble(rgb),
      expected: fails('corrupt', /PNG data is corrupt/),
    },
    // Decoding sniffs the content, so a wrong extension does not matter.
    { name: 'JPEG named .png', file: 'jpeg-named.png', bytes: jpeg, expected: ok(120, 80) },
    { name: 'PNG named .jpg', file: 'png-named.jpg', bytes: rgb, expected: ok(120, 80) },
    {
      name: 'text file named .png',
      file: 'notes.png',
      bytes: Buffer.from('patient notes: not an image\n'),
      expected: fails('unsupported-format', /the input is text, not an image/),
    },
    {
      name: 'random bytes',
      file: 'random.bin',
      bytes: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251),
      expected: fails('unsupported-format', /unrecognised image format/),
    },
    {
      name: '1x1 image',
      file: 'one-pixel.png',
      bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#777' } })
        .png()
        .toBuffer(),
      expected: ok(1, 1),
    },
    {
      name: 'decompression bomb: PNG declaring 50000x50000',
      file: 'bomb.png',
      bytes: bombPng(50_000, 50_000),
      expected: fails('too-large', /50000x50000 \(2500 MP\), over the 100 MP limit/),
    },
    {
      name: '16-bit grey TIFF',
      file: 'grey16.tif',
      bytes: await sharp(grey16).toColourspace('grey16').tiff({ compression: 'lzw' }).toBuffer(),
      expected: ok(96, 96),
    },
    { name: '16-bit grey PNG', file: 'grey16.png', bytes: grey16, expected: ok(96, 96) },
    {
      name: 'CMYK JPEG',
      file: 'cmyk.jpg',
      bytes: await sharp(rgb).toColourspace('cmyk').jpeg().toBuffer(),
      expected: ok(120, 80),
    },
    // GIF is outside the supported formats: permanent, named. Animated WebP: the first frame.
    {
      name: 'animated GIF (2 frames)',
      file: 'animated.gif',
      bytes: await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
      expected: fails('unsupported-format', /GIF is not a supported format/),
    },
    {
      name: 'animated WebP (2 frames): first frame',
      file: 'animated.webp',
      bytes: await sharp(frames, { join: { animated: true } })
        .webp({ lossless: true })
        .toBuffer(),
      expected: ok(96, 96),
    },
    {
      name: 'BMP',
      file: 'scan.bmp',
      bytes: bmp(),
      expected: fails('unsupported-format', /BMP is not a supported format/),
    },
    { name: 'grey-only PNG', file: 'grey.png', bytes: base, expected: ok(96, 96) },
    {
      name: 'RGBA PNG (half-transparent)',
      file: 'rgba.png',
      bytes: await sharp(rgb).ensureAlpha(0.5).png().toBuffer(),
      expected: ok(120, 80),
    },
    {
      name: 'DICOM, 12-bit uncompressed',
      file: 'ok.dcm',
      bytes: writeDicom({ rows: 32, columns: 48, pixels: dicomPixels, bitsStored: 12 }),
      expected: ok(48, 32),
    },
    {
      name: 'DICOM without pixel data',
      file: 'no-pixels.dcm',
      bytes: withoutPixelData(writeDicom({ rows: 32, columns: 48, pixels: dicomPixels })),
      expected: fails('unsupported-dicom', /no pixel data \(7FE0,0010\)/),
    },
    {
      name: 'DICOM saying JPEG 2000 over native pixel data',
      file: 'jpeg2000.dcm',
      bytes: writeDicom({
        rows: 32,
        columns: 48,
        pixels: dicomPixels,
        transferSyntax: SYNTAX.jpeg2000,
        nativePixelData: true,
      }),
      expected: fails(
        'corrupt',
        /compressed transfer syntax but the pixel data is not encapsulated/,
      ),
    },
  ];
}

/** A PNG whose IHDR declares `width` x `height` (8-bit grey) over one tiny IDAT. */
export function bombPng(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return pngFile([
    ['IHDR', ihdr],
    ['IDAT', deflateSync(Buffer.alloc(width + 1))],
    ['IEND', Buffer.alloc(0)],
  ]);
}

/** A PNG whose compressed pixel data is overwritten with noise (CRCs recomputed: only zlib fails). */
function garble(png: Buffer): Uint8Array {
  const chunks: [string, Buffer][] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    let data = Buffer.from(png.subarray(at + 8, at + 8 + len));
    if (type === 'IDAT') data = Buffer.from(data.map((b, i) => (i < 2 ? b : (b * 31 + i) & 0xff)));
    chunks.push([type, data]);
    at += 12 + len;
  }
  return pngFile(chunks);
}

/** The same DICOM file cut just before its pixel data element (7FE0,0010), its last element. */
function withoutPixelData(dicom: Uint8Array): Uint8Array {
  const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
  const at = Buffer.from(dicom).lastIndexOf(tag);
  if (at < 0) throw new Error('no pixel data element to remove');
  return dicom.subarray(0, at);
}

/** A 2x2 24-bit BMP (a real image, in a format camflow does not take). */
function bmp(): Uint8Array {
  const b = Buffer.alloc(54 + 16);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(2, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(16, 34);
  b.fill(0x80, 54);
  return b;
}
