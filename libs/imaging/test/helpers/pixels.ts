import { crc32, deflateSync } from 'node:zlib';

/** Deterministic pseudo-random bytes (LCG), so test images are the same on every run. */
export function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A test picture: smooth gradients plus noise, so both edges and flat areas are exercised. */
export function picture(width: number, height: number, channels: 1 | 3, seed = 1): Uint8Array {
  const n = noise(width * height * channels, seed);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const i = (y * width + x) * channels + c;
        const smooth = (x * 255) / width + (c * 80 + (y * 128) / height);
        out[i] = (smooth + (n[i] - 128) * 0.5 + 512) % 256;
      }
    }
  }
  return out;
}

/** Encodes raw 8-bit pixels (grey, RGB or RGBA) losslessly as PNG of that colour type. */
export async function png(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
): Promise<Uint8Array> {
  // Our own writer: sharp would store 1-channel raw input as an RGB PNG.
  return encodePng(width, height, ({ 1: 0, 3: 2, 4: 6 } as const)[channels], 8, data);
}

/**
 * A minimal PNG writer for exact control over the file (colour type, bit depth), e.g. grey+alpha
 * or 16-bit grey, which sharp may convert when encoding. `samples` holds big-endian-free sample
 * values; 16-bit samples are written big-endian as PNG requires. Header fields are not checked.
 */
export function encodePng(
  width: number,
  height: number,
  colourType: 0 | 2 | 4 | 6,
  bitDepth: 8 | 16,
  samples: ArrayLike<number>,
): Uint8Array {
  const perPixel = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType];
  const bytesPerSample = bitDepth / 8;
  const stride = width * perPixel * bytesPerSample;
  const rows = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * perPixel; i++) {
      const v = samples[y * width * perPixel + i];
      const at = y * (stride + 1) + 1 + i * bytesPerSample;
      if (bitDepth === 16) rows.writeUInt16BE(v, at);
      else rows[at] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colourType, 0, 0, 0], 8);
  return pngFile([
    ['IHDR', ihdr],
    ['IDAT', deflateSync(rows)],
    ['IEND', Buffer.alloc(0)],
  ]);
}

/** Assembles PNG chunks with correct lengths and CRCs. */
export function pngFile(chunks: [string, Buffer][]): Uint8Array {
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  for (const [type, data] of chunks) {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    parts.push(head, body, crc);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A minimal uncompressed little-endian TIFF of one grey channel of 32-bit floats. */
export function floatTiff(width: number, height: number, values: ArrayLike<number>): Uint8Array {
  const entries: [number, number, number, number][] = [
    // tag, type (3 = SHORT, 4 = LONG), count, value
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 1, 32], // BitsPerSample
    [259, 3, 1, 1], // no compression
    [262, 3, 1, 1], // BlackIsZero
    [273, 4, 1, 0], // StripOffsets, patched below
    [277, 3, 1, 1], // SamplesPerPixel
    [278, 4, 1, height], // RowsPerStrip
    [279, 4, 1, width * height * 4], // StripByteCounts
    [339, 3, 1, 3], // SampleFormat: IEEE float
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  const out = Buffer.alloc(dataOffset + width * height * 4);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(count, at + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) out.writeUInt16LE(v, at + 8);
    else out.writeUInt32LE(v, at + 8);
  });
  for (let i = 0; i < width * height; i++) out.writeFloatLE(values[i], dataOffset + i * 4);
  return new Uint8Array(out);
}
