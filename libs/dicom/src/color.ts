/**
 * Colour sample layouts -> interleaved RGB (PS3.3 C.7.6.3.1.2 and C.7.6.3.1.5): planar
 * configuration, YBR_FULL, YBR_FULL_422 (two lumas share one Cb, Cr pair), palette colour.
 */
import { DicomError } from './errors.js';
import type { DataSet } from './parse.js';

/** RRR..GGG..BBB -> RGBRGB.. (a copy). */
export function interleave(values: Float64Array, pixels: number): Float64Array {
  const out = new Float64Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[i * 3] = values[i];
    out[i * 3 + 1] = values[pixels + i];
    out[i * 3 + 2] = values[2 * pixels + i];
  }
  return out;
}

/** Y1 Y2 Cb Cr per pixel pair (native YBR_FULL_422) -> Y Cb Cr per pixel. */
export function upsample422(values: Float64Array, rows: number, columns: number): Float64Array {
  const out = new Float64Array(rows * columns * 3);
  const perRow = columns * 2;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const pair = r * perRow + Math.floor(c / 2) * 4;
      const o = (r * columns + c) * 3;
      out[o] = values[pair + (c % 2)];
      out[o + 1] = values[pair + 2];
      out[o + 2] = values[pair + 3];
    }
  }
  return out;
}

/** Full-range YCbCr -> RGB in place, for samples of `bits` bits. */
export function ybrToRgb(values: Float64Array, bits: number): void {
  const mid = 2 ** (bits - 1);
  const max = 2 ** bits - 1;
  const clamp = (v: number) => Math.min(max, Math.max(0, Math.round(v)));
  for (let i = 0; i + 2 < values.length; i += 3) {
    const y = values[i];
    const cb = values[i + 1] - mid;
    const cr = values[i + 2] - mid;
    values[i] = clamp(y + 1.402 * cr);
    values[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    values[i + 2] = clamp(y + 1.772 * cb);
  }
}

interface Lut {
  entries: number;
  first: number;
  data: Uint16Array | Uint8Array;
  bits: number;
}

function readLut(
  ds: DataSet,
  colour: 'Red' | 'Green' | 'Blue',
  descTag: string,
  dataTag: string,
  bigEndian: boolean,
): Lut {
  if (ds.elements[`x0028122${{ Red: 1, Green: 2, Blue: 3 }[colour]}`]) {
    throw new DicomError(
      'unsupported',
      'DICOM segmented palette colour lookup tables are not supported',
    );
  }
  const desc = ds.elements[descTag];
  const data = ds.elements[dataTag];
  if (!desc || !data) {
    throw new DicomError('corrupt', `DICOM PALETTE COLOR image lacks its ${colour} lookup table`);
  }
  const entries = ds.uint16(descTag, 0) || 65536;
  const first = ds.uint16(descTag, 1) ?? 0;
  const bits = ds.uint16(descTag, 2) ?? 16;
  const bytes = ds.byteArray.subarray(data.dataOffset, data.dataOffset + data.length);
  // Entries are 16-bit words even for 8-bit tables, except where a writer packed bytes.
  let table: Uint16Array | Uint8Array | undefined;
  if (data.length >= entries * 2) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    table = Uint16Array.from({ length: entries }, (_, i) => view.getUint16(i * 2, !bigEndian));
  } else if (data.length === entries) table = bytes.slice();
  if (!table) {
    throw new DicomError(
      'corrupt',
      `DICOM ${colour} palette lookup table has ${data.length} bytes for ${entries} entries`,
    );
  }
  return { entries, first, data: table, bits };
}

/** Palette indices -> 8-bit RGB, interleaved. */
export function applyPalette(ds: DataSet, indices: Float64Array, bigEndian: boolean): Float64Array {
  const luts = (['Red', 'Green', 'Blue'] as const).map((c, k) =>
    readLut(ds, c, `x0028110${k + 1}`, `x0028120${k + 1}`, bigEndian),
  );
  const out = new Float64Array(indices.length * 3);
  for (let i = 0; i < indices.length; i++) {
    for (let k = 0; k < 3; k++) {
      const lut = luts[k];
      const at = Math.min(lut.entries - 1, Math.max(0, indices[i] - lut.first));
      const v = lut.data[at];
      out[i * 3 + k] = lut.bits > 8 ? v >> 8 : v;
    }
  }
  return out;
}
