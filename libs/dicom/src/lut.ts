/**
 * Grey value pipeline (PS3.3 C.11): stored value -> modality LUT (RescaleSlope/Intercept, or a
 * Modality LUT Sequence) -> VOI (window centre/width with its function, or a VOI LUT Sequence)
 * -> presentation (MONOCHROME1 inverted). The VOI step maps to 0..255 for the models.
 */
import { DicomError } from './errors.js';
import type { DataSet } from './parse.js';

/** A VOI window in modality units (after rescale). */
export interface DicomWindow {
  center: number;
  width: number;
}

/** A lookup table: values below `first` take entry 0, above the last take the last entry. */
export interface LookupTable {
  first: number;
  data: Float64Array;
  /** Bits per entry (the output range is 0 .. 2^bits - 1). */
  bits: number;
}

/** What the VOI step of a file says (the caller may override it with a window). */
export interface VoiSettings {
  window?: DicomWindow;
  /** LINEAR (default), LINEAR_EXACT or SIGMOID. */
  fn: string;
  lut?: LookupTable;
}

function readTable(item: DataSet, what: string, signedInput: boolean): LookupTable {
  const desc = item.elements.x00283002;
  const data = item.elements.x00283006;
  if (!desc || !data)
    throw new DicomError('corrupt', `DICOM ${what} has no LUT descriptor or data`);
  const entries = item.uint16('x00283002', 0) || 65536;
  let first = item.uint16('x00283002', 1) ?? 0;
  if (signedInput && first >= 32768) first -= 65536;
  const bits = item.uint16('x00283002', 2) ?? 16;
  const out = new Float64Array(entries);
  const wide = data.length >= entries * 2;
  if (!wide && data.length < entries) {
    throw new DicomError(
      'corrupt',
      `DICOM ${what} has ${data.length} bytes for ${entries} entries`,
    );
  }
  for (let i = 0; i < entries; i++) {
    out[i] = wide ? (item.uint16('x00283006', i) ?? 0) : item.byteArray[data.dataOffset + i];
  }
  return { first, data: out, bits };
}

function lookup(t: LookupTable, v: number): number {
  const i = Math.min(t.data.length - 1, Math.max(0, Math.round(v) - t.first));
  return t.data[i];
}

/** The modality transform: a function of the stored value (identity when the file has none). */
export function modalityTransform(ds: DataSet, signed: boolean): (v: number) => number {
  const seq = ds.elements.x00283000?.items?.[0]?.dataSet;
  if (seq) {
    const table = readTable(seq, 'Modality LUT Sequence', signed);
    return (v) => lookup(table, v);
  }
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  if (!Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new DicomError('corrupt', 'DICOM RescaleSlope or RescaleIntercept is not a number');
  }
  return slope === 1 && intercept === 0 ? (v) => v : (v) => v * slope + intercept;
}

/** The file's VOI settings: the first window, its function, or the first VOI LUT. */
export function readVoi(ds: DataSet): VoiSettings {
  const fn = (ds.string('x00281056')?.trim() || 'LINEAR').toUpperCase();
  const center = ds.floatString('x00281050', 0);
  const width = ds.floatString('x00281051', 0);
  const window =
    center !== undefined && width !== undefined && Number.isFinite(center) && width > 0
      ? { center, width }
      : undefined;
  const item = ds.elements.x00283010?.items?.[0]?.dataSet;
  const lut = !window && item ? readTable(item, 'VOI LUT Sequence', true) : undefined;
  return { fn, ...(window && { window }), ...(lut && { lut }) };
}

/**
 * Modality values -> 0..255. A window (given, else the file's) uses its function; a VOI LUT is
 * scaled from its bit range; with neither, the full min..max range maps linearly.
 */
export function applyVoi(
  values: Float32Array,
  voi: VoiSettings,
  override?: DicomWindow,
): Uint8Array {
  const out = new Uint8Array(values.length);
  const window = override ?? voi.window;
  let f: (x: number) => number;
  if (window) f = voiFunction(voi.fn, window);
  else if (voi.lut) {
    const t = voi.lut;
    const scale = 255 / (2 ** t.bits - 1);
    f = (x) => lookup(t, x) * scale;
  } else f = voiFunction('LINEAR_EXACT', fullRange(values));
  for (let i = 0; i < values.length; i++)
    out[i] = Math.round(Math.min(255, Math.max(0, f(values[i]))));
  return out;
}

/** The full value range as a LINEAR_EXACT window: min -> 0, max -> 255. */
function fullRange(values: Float32Array): DicomWindow {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return { center: min, width: 0 };
  return { center: (min + max) / 2, width: max - min };
}

/** PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID. */
export function voiFunction(
  fn: string,
  { center: c, width: w }: DicomWindow,
): (x: number) => number {
  if (w <= 0) return () => 0;
  if (fn === 'SIGMOID') return (x) => 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255);
  }
  // LINEAR (the default): width 1 is a threshold at c - 0.5.
  if (w < 1) w = 1;
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  return (x) =>
    x <= lo ? 0 : x > hi ? 255 : w === 1 ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}
