/** What `camflow inspect` prints for a DICOM file: no PHI, only how the pixels are stored. */
import { readHeader } from './header.js';
import { parseDicom } from './parse.js';

export interface DicomDescription {
  format: 'dicom';
  transferSyntax: { uid: string; name: string };
  sopClassUID?: string;
  modality?: string;
  /** Absent for objects without pixel data. */
  width?: number;
  height?: number;
  channels?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  signed?: boolean;
  photometricInterpretation?: string;
  frames?: number;
}

/** Reads the header only (stops before the pixel data). */
export function describeDicom(bytes: Uint8Array): DicomDescription {
  const h = readHeader(parseDicom(bytes));
  const out: DicomDescription = {
    format: 'dicom',
    transferSyntax: h.transferSyntax,
    ...(h.sopClassUID && { sopClassUID: h.sopClassUID }),
    ...(h.modality && { modality: h.modality }),
  };
  const p = h.pixels;
  if (!p) return out;
  return {
    ...out,
    width: p.columns,
    height: p.rows,
    channels: p.samplesPerPixel === 3 || p.photometric === 'PALETTE COLOR' ? 3 : 1,
    bitsAllocated: p.bitsAllocated,
    bitsStored: p.bitsStored,
    signed: p.signed,
    photometricInterpretation: p.photometric,
    frames: p.frames,
  };
}
