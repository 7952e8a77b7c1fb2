/**
 * A minimal PNG encoder for 16-bit greyscale, written here rather than through sharp so the
 * stored samples are exactly the values given (no colour conversion or depth change).
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes row-major 16-bit grey samples as a PNG (colour type 0, bit depth 16). */
export function encodeGrey16Png(width: number, height: number, samples: Uint16Array): Uint8Array {
  if (samples.length !== width * height) {
    throw new RangeError(`expected ${width * height} samples, got ${samples.length}`);
  }
  const stride = width * 2 + 1;
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    rows[y * stride] = 2; // "Up" filter: heatmaps are smooth, so rows differ little.
    for (let x = 0; x < width; x++) {
      const v = samples[y * width + x];
      const above = y > 0 ? samples[(y - 1) * width + x] : 0;
      const at = y * stride + 1 + x * 2;
      // Up filter works bytewise on the big-endian bytes, modulo 256.
      rows[at] = ((v >> 8) - (above >> 8)) & 0xff;
      rows[at + 1] = ((v & 0xff) - (above & 0xff)) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([16, 0, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}
