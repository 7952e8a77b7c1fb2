/**
 * The bytes of one frame: a slice of native pixel data, or the fragments of one compressed frame
 * (PS3.5 A.4: Basic Offset Table, Extended Offset Table, or one fragment per frame; a single
 * frame may span all fragments).
 */
import dicomParser from 'dicom-parser';
import { DicomError } from './errors.js';
import type { PixelHeader } from './header.js';
import type { DataSet } from './parse.js';

/** Bytes of one native (uncompressed) frame. */
export function nativeFrame(ds: DataSet, p: PixelHeader, index: number): Uint8Array {
  const el = ds.elements.x7fe00010;
  if (!el) throw new DicomError('no-pixels', 'DICOM file has no pixel data (7FE0,0010)');
  // YBR_FULL_422 keeps two luma samples and one Cb, Cr pair per two pixels.
  const samples =
    p.photometric === 'YBR_FULL_422'
      ? p.rows * p.columns * 2
      : p.rows * p.columns * p.samplesPerPixel;
  const frameBytes = (samples * p.bitsAllocated) / 8;
  const start = el.dataOffset + frameBytes * index;
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (frameBytes * (index + 1) > available) {
    throw new DicomError(
      'truncated',
      `DICOM pixel data is truncated: frame ${index} needs bytes ${frameBytes * index}..${frameBytes * (index + 1)}, ${Math.max(0, available)} present`,
    );
  }
  return ds.byteArray.subarray(start, start + frameBytes);
}

/** Bytes of one compressed frame (its fragments joined). */
export function encapsulatedFrame(ds: DataSet, p: PixelHeader, index: number): Uint8Array {
  const el = ds.elements.x7fe00010;
  if (!el) throw new DicomError('no-pixels', 'DICOM file has no pixel data (7FE0,0010)');
  if (!el.encapsulatedPixelData || !el.fragments || !el.hadUndefinedLength) {
    throw new DicomError(
      'corrupt',
      'DICOM compressed transfer syntax but the pixel data is not encapsulated (no fragments)',
    );
  }
  const fragments = el.fragments;
  if (fragments.length === 0) {
    throw new DicomError('truncated', 'DICOM encapsulated pixel data has no fragments');
  }
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length) {
      throw new DicomError(
        'truncated',
        'DICOM encapsulated pixel data is truncated (a fragment runs past the end of the file)',
      );
    }
  }
  try {
    if (p.frames === 1) {
      return copy(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length));
    }
    const extended = extendedOffsets(ds);
    if (extended) return sliceAt(ds, el, extended, index);
    if (el.basicOffsetTable && el.basicOffsetTable.length > 0) {
      return copy(dicomParser.readEncapsulatedImageFrame(ds, el, index));
    }
    if (fragments.length === p.frames) {
      return copy(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, index, 1));
    }
  } catch (err) {
    if (err instanceof DicomError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new DicomError('corrupt', `DICOM encapsulated frame ${index} cannot be read (${detail})`);
  }
  throw new DicomError(
    'unsupported',
    `DICOM multi-frame pixel data has ${fragments.length} fragments for ${p.frames} frames and no offset table: frames cannot be told apart`,
  );
}

/** Extended Offset Table (7FE0,0001): 64-bit offsets of each frame's first fragment. */
function extendedOffsets(ds: DataSet): number[] | undefined {
  const el = ds.elements.x7fe00001;
  if (!el || el.length < 8) return undefined;
  const view = new DataView(
    ds.byteArray.buffer,
    ds.byteArray.byteOffset + el.dataOffset,
    el.length,
  );
  const out: number[] = [];
  for (let i = 0; i + 8 <= el.length; i += 8) out.push(Number(view.getBigUint64(i, true)));
  return out;
}

function sliceAt(
  ds: DataSet,
  el: dicomParser.Element,
  offsets: number[],
  index: number,
): Uint8Array {
  if (index >= offsets.length) {
    throw new DicomError('corrupt', `DICOM extended offset table has no entry for frame ${index}`);
  }
  const fragments = el.fragments!;
  const first = fragments.findIndex((f) => f.offset === offsets[index]);
  if (first < 0) {
    throw new DicomError(
      'corrupt',
      `DICOM extended offset table points between fragments (frame ${index})`,
    );
  }
  const end = index + 1 < offsets.length ? offsets[index + 1] : Number.POSITIVE_INFINITY;
  let count = 0;
  while (first + count < fragments.length && fragments[first + count].offset < end) count++;
  return copy(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, first, count));
}

// dicom-parser may return a view into the file; codecs get their own bytes.
function copy(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  return bytes instanceof Uint8Array ? bytes.slice() : new Uint8Array(bytes.slice(0));
}
