import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseCard, seedCardJson } from '../src/card.js';
import { decodeImage, sniffFormat } from '../src/decode.js';
import { ImageDecodeError } from '../src/errors.js';
import { preprocess } from '../src/preprocess.js';
import { encodePng, floatTiff, picture, png, pngFile } from './helpers/pixels.js';

/** A structurally valid PNG whose header claims any size (pixel data is a few bytes). */
function pngClaiming(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey
  return pngFile([
    ['IHDR', ihdr],
    ['IDAT', deflateSync(Buffer.alloc(1000))],
    ['IEND', Buffer.alloc(0)],
  ]);
}

async function decodeError(bytes: Uint8Array, options = {}): Promise<ImageDecodeError> {
  try {
    await decodeImage(bytes, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageDecodeError);
    const e = err as ImageDecodeError;
    expect(e.permanent).toBe(true);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('decodeImage accepted bad input');
}

const rgb = picture(40, 30, 3);
const raw = (channels: 1 | 3 | 4) => ({ raw: { width: 40, height: 30, channels } });

describe('decodeImage formats', () => {
  it('decodes 8-bit RGB PNG exactly', async () => {
    const image = await decodeImage(await png(rgb, 40, 30, 3));
    expect(image).toMatchObject({ width: 40, height: 30, channels: 3, format: 'png', bitDepth: 8 });
    expect(image.data).toEqual(rgb);
  });

  it('decodes a colour image whose pixels are all grey to one channel: the same tensor, a third of the work', async () => {
    const grey = picture(40, 30, 1);
    const asRgb = new Uint8Array(40 * 30 * 3).map((_, i) => grey[Math.floor(i / 3)]);
    const image = await decodeImage(await png(asRgb, 40, 30, 3));
    expect(image).toMatchObject({ channels: 1, format: 'png' });
    expect(image.data).toEqual(grey);
    const card = parseCard({
      ...seedCardJson,
      input: { ...seedCardJson.input, size: 24, resizeTo: 24 },
    });
    const fromGrey = await preprocess(image, card);
    const fromRgb = await preprocess({ ...image, channels: 3, data: asRgb }, card);
    expect(Buffer.from(fromGrey.tensor.buffer).equals(Buffer.from(fromRgb.tensor.buffer))).toBe(
      true,
    );
    // One coloured pixel anywhere keeps all three channels.
    asRgb[asRgb.length - 2] ^= 1;
    const colour = await decodeImage(await png(asRgb, 40, 30, 3));
    expect(colour.channels).toBe(3);
    expect(colour.data).toEqual(asRgb);
  });

  it('keeps grey PNG as one channel and drops alpha (grey+alpha, RGBA)', async () => {
    const grey = picture(40, 30, 1);
    const image = await decodeImage(await png(grey, 40, 30, 1));
    expect(image.channels).toBe(1);
    expect(image.data).toEqual(grey);

    const ga = new Uint8Array(40 * 30 * 2).map((_, i) => (i % 2 ? 17 : grey[i >> 1]));
    const decoded = await decodeImage(encodePng(40, 30, 4, 8, ga));
    expect(decoded.channels).toBe(1);
    expect(decoded.data).toEqual(grey);

    const rgba = new Uint8Array(40 * 30 * 4).map((_, i) =>
      i % 4 === 3 ? 0 : rgb[(i >> 2) * 3 + (i % 4)],
    );
    const fromRgba = await decodeImage(await png(rgba, 40, 30, 4));
    expect(fromRgba.channels).toBe(3);
    expect(fromRgba.data).toEqual(rgb); // alpha dropped, not composited (PIL convert('RGB'))
  });

  it('scales 16-bit grey and colour PNG to 8 bits (v / 257)', async () => {
    const grey16 = new Uint16Array(40 * 30).map((_, i) => (i * 997) % 65536);
    const image = await decodeImage(encodePng(40, 30, 0, 16, grey16));
    expect(image).toMatchObject({ channels: 1, bitDepth: 16 });
    const expected = Array.from(grey16, (v) => Math.round(v / 257));
    const diff = Array.from(image.data).map((v, i) => Math.abs(v - expected[i]));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);

    const rgb16 = new Uint16Array(40 * 30 * 3).map((_, i) => (i * 4099) % 65536);
    const colour = await decodeImage(encodePng(40, 30, 2, 16, rgb16));
    expect(colour).toMatchObject({ channels: 3, bitDepth: 16 });
    const expectedRgb = Array.from(rgb16, (v) => Math.round(v / 257));
    const diffRgb = Array.from(colour.data).map((v, i) => Math.abs(v - expectedRgb[i]));
    expect(Math.max(...diffRgb)).toBeLessThanOrEqual(1);
  });

  it('decodes JPEG, lossless WebP and TIFF (8 and 16 bit)', async () => {
    const jpeg = await sharp(rgb, raw(3)).jpeg({ quality: 95 }).toBuffer();
    const j = await decodeImage(new Uint8Array(jpeg));
    expect(j).toMatchObject({ format: 'jpeg', channels: 3, width: 40, height: 30 });

    const webp = await sharp(rgb, raw(3)).webp({ lossless: true }).toBuffer();
    const w = await decodeImage(new Uint8Array(webp));
    expect(w.format).toBe('webp');
    expect(w.data).toEqual(rgb);

    const tiff = await sharp(rgb, raw(3)).tiff({ compression: 'lzw' }).toBuffer();
    const t = await decodeImage(new Uint8Array(tiff));
    expect(t.format).toBe('tiff');
    expect(t.data).toEqual(rgb);

    const grey16 = new Uint16Array(40 * 30).fill(65535);
    const tiff16 = await sharp(encodePng(40, 30, 0, 16, grey16))
      .toColourspace('grey16')
      .tiff({ compression: 'lzw' })
      .toBuffer();
    const t16 = await decodeImage(new Uint8Array(tiff16));
    expect(t16).toMatchObject({ format: 'tiff', channels: 1, bitDepth: 16 });
    expect(t16.data.every((v) => v === 255)).toBe(true);
  });

  it('recognises formats by their magic bytes', () => {
    expect(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(new TextEncoder().encode('MM\0*'))).toBe('tiff');
    const dicm = new Uint8Array(132);
    dicm.set(new TextEncoder().encode('DICM'), 128);
    expect(sniffFormat(dicm)).toBe('dicom');
    expect(sniffFormat(new TextEncoder().encode('GIF89a'))).toBeUndefined();
  });
});

describe('decodeImage bad input: one clear, permanent error each', () => {
  it('zero bytes', async () => {
    const e = await decodeError(new Uint8Array(0));
    expect(e.code).toBe('empty');
    expect(e.message).toBe('empty input (0 bytes)');
  });

  it('text and other formats', async () => {
    const text = await decodeError(new TextEncoder().encode('{"not": "an image"}\n'));
    expect(text.code).toBe('unsupported-format');
    expect(text.message).toBe(
      'the input is text, not an image (expected PNG, JPEG, WebP, TIFF or DICOM)',
    );
    const gif = await sharp(rgb, raw(3)).gif().toBuffer();
    expect((await decodeError(new Uint8Array(gif))).message).toMatch(
      /^GIF is not a supported format/,
    );
    expect((await decodeError(new Uint8Array([1, 2, 3, 0, 255]))).message).toMatch(
      /^unrecognised image format/,
    );
  });

  it('truncated PNG, JPEG, WebP and TIFF', async () => {
    const encoded = {
      PNG: await png(picture(64, 64, 3), 64, 64, 3),
      JPEG: new Uint8Array(
        await sharp(picture(64, 64, 3), { raw: { width: 64, height: 64, channels: 3 } })
          .jpeg()
          .toBuffer(),
      ),
      WebP: new Uint8Array(
        await sharp(picture(64, 64, 3), { raw: { width: 64, height: 64, channels: 3 } })
          .webp()
          .toBuffer(),
      ),
      TIFF: new Uint8Array(
        await sharp(picture(64, 64, 3), { raw: { width: 64, height: 64, channels: 3 } })
          .tiff()
          .toBuffer(),
      ),
    };
    for (const [name, bytes] of Object.entries(encoded)) {
      for (const fraction of [0.5, 0.9]) {
        const e = await decodeError(bytes.subarray(0, Math.floor(bytes.length * fraction)));
        expect(['truncated', 'corrupt']).toContain(e.code);
        expect(e.message.startsWith(`${name} data is`)).toBe(true);
      }
    }
  });

  it('a PNG cut inside its last IDAT chunk is truncated, not corrupt', async () => {
    // One IDAT holding most of the file: libspng reports "read error" when the buffer runs out.
    const bytes = await png(picture(120, 80, 3), 120, 80, 3);
    for (const fraction of [0.6, 0.8, 0.95]) {
      const e = await decodeError(bytes.subarray(0, Math.floor(bytes.length * fraction)));
      expect(e.code).toBe('truncated');
      expect(e.message).toMatch(/^PNG data is truncated/);
    }
  });

  it('corrupt data inside a valid container', async () => {
    const bytes = (await png(picture(64, 64, 3), 64, 64, 3)).slice();
    for (let i = 60; i < bytes.length - 20; i += 7) bytes[i] ^= 0x5a;
    const e = await decodeError(bytes);
    expect(e.message).toMatch(/^PNG data is (corrupt|truncated)/);
  });

  it('huge dimensions are refused from the header, before decoding', async () => {
    const e = await decodeError(pngClaiming(30000, 30000));
    expect(e.code).toBe('too-large');
    expect(e.message).toBe('PNG image is 30000x30000 (900 MP), over the 100 MP limit');
  });

  it('float TIFF (sharp would clip it to near-black)', async () => {
    const e = await decodeError(floatTiff(4, 2, [0, 0.25, 0.5, 1, 2, -1, 100, 0.1]));
    expect(e.code).toBe('unsupported-format');
    expect(e.message).toBe(
      'TIFF with 32-bit float samples is not supported (8 or 16-bit integers only)',
    );
  });

  it('the pixel limit is configurable', async () => {
    const bytes = await png(picture(40, 30, 3), 40, 30, 3);
    const e = await decodeError(bytes, { maxPixels: 1000 });
    expect(e.message).toBe('PNG image is 40x30 (1200 pixels), over the 1000-pixel limit');
    expect((await decodeImage(bytes, { maxPixels: 1200 })).width).toBe(40);
  });
});
