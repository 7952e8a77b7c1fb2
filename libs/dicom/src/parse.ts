/**
 * Part 10 parsing with dicom-parser: the data set, the transfer syntax, and failures mapped onto
 * DicomError (dicom-parser throws strings, or objects carrying one and a partial data set).
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { DicomError } from './errors.js';

export type DataSet = dicomParser.DataSet;
export type Element = dicomParser.Element;

/** Deflated syntax: the data set after the meta group is raw deflate; give back the whole file inflated. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(position));
  } catch (err) {
    throw new DicomError(
      'corrupt',
      `DICOM deflated data set does not inflate (${(err as Error).message})`,
    );
  }
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

/** True when the bytes carry the Part 10 preamble and "DICM". */
export function isPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/**
 * Parses a Part 10 file. `untilTag` stops before that tag (e.g. 'x7fe00010' to read only the
 * header of a large instance).
 */
export function parseDicom(bytes: Uint8Array, untilTag?: string): DataSet {
  if (!isPart10(bytes)) {
    throw new DicomError(
      'corrupt',
      bytes.length < 132
        ? `DICOM file is too short (${bytes.length} bytes; a Part 10 file has a 128-byte preamble and "DICM")`
        : 'not a DICOM Part 10 file (no "DICM" after the 128-byte preamble)',
    );
  }
  try {
    const options = { inflater, ...(untilTag ? { untilTag } : {}) };
    return dicomParser.parseDicom(bytes, options as dicomParser.ParseDicomOptions);
  } catch (err) {
    if (err instanceof DicomError) throw err;
    // Cut inside native pixel data: the header is whole, and the frame reader says what is missing.
    const partial = (err as { dataSet?: DataSet })?.dataSet;
    const pixels = partial?.elements?.x7fe00010;
    if (pixels && !pixels.encapsulatedPixelData && pixels.dataOffset <= bytes.length)
      return partial!;
    const detail =
      err instanceof Error
        ? err.message
        : typeof err === 'string'
          ? err
          : String((err as { exception?: unknown })?.exception ?? err);
    const truncated = /overr(ead|un)|end of buffer|past end|outside|premature|beyond/i.test(detail);
    throw new DicomError(
      truncated ? 'truncated' : 'corrupt',
      `DICOM data is ${truncated ? 'truncated' : 'corrupt'} (${detail.replace(/^dicomParser\./, '')})`,
    );
  }
}

/** A string attribute without padding, or undefined when absent or empty. */
export function text(ds: DataSet, tag: string, index?: number): string | undefined {
  const v = ds.string(tag, index);
  const s = v?.replace(/\0/g, '').trim();
  return s ? s : undefined;
}
