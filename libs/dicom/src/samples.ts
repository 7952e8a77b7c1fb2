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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shift = p.highBit + 1 - p.bitsStored;
  const width = p.bitsStored;
  const signBit = 2 ** (width - 1);
  const full = 2 ** width;
  const step = p.bitsAllocated / 8;
  for (let i = 0; i < count; i++) {
    let word: number;
    if (step === 1) word = view.getUint8(i);
    else if (step === 2) word = view.getUint16(i * 2, !bigEndian);
    else word = view.getUint32(i * 4, !bigEndian);
    // Division, not >>, so that 32-bit words stay exact.
    let v = Math.floor(word / 2 ** shift) % full;
    if (p.signed && v >= signBit) v -= full;
    out[i] = v;
  }
  return out;
}
