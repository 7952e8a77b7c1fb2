/**
 * Packed samples -> stored values: bytes of 8, 16 or 32 bits (either byte order), the bits above
 * BitsStored dropped (they may hold overlays), sign-extended when PixelRepresentation is 1.
 */
import type { PixelHeader } from './header.js';

export function storedValues(
  bytes: Uint8Array,
  p: PixelHeader,
  count: number,
  bigEndian: boolean,
): Float64Array {
  const out = new Float64Array(count);
  const shift = p.highBit + 1 - p.bitsStored;
  const width = p.bitsStored;
  const step = p.bitsAllocated / 8;
  if (step <= 2 && width <= 16 && shift >= 0) {
    // 8 and 16 bits (nearly every image): exact in 32-bit integer arithmetic, no DataView calls.
    const mask = (1 << width) - 1;
    const extend = p.signed ? 32 - width : 0;
    const words =
      step === 1
        ? bytes
        : !bigEndian && bytes.byteOffset % 2 === 0
          ? new Uint16Array(bytes.buffer, bytes.byteOffset, count)
          : swappedWords(bytes, count, bigEndian);
    for (let i = 0; i < count; i++) {
      const v = (words[i] >>> shift) & mask;
      out[i] = extend ? (v << extend) >> extend : v;
    }
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signBit = 2 ** (width - 1);
  const full = 2 ** width;
  for (let i = 0; i < count; i++) {
    const word = step === 2 ? view.getUint16(i * 2, !bigEndian) : view.getUint32(i * 4, !bigEndian);
    // Division, not >>, so that 32-bit words stay exact.
    let v = Math.floor(word / 2 ** shift) % full;
    if (p.signed && v >= signBit) v -= full;
    out[i] = v;
  }
  return out;
}

/** 16-bit words from bytes that are big endian or not 2-byte aligned. */
function swappedWords(bytes: Uint8Array, count: number, bigEndian: boolean): Uint16Array {
  const words = new Uint16Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) words[i] = view.getUint16(i * 2, !bigEndian);
  return words;
}
