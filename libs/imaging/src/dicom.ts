/**
 * DICOM (Part 10 files) to 8-bit pixels through @camflow/dicom: every common transfer syntax,
 * the modality LUT, the VOI window (the file's or the caller's; else the full range), MONOCHROME1
 * inverted, colour as RGB. Failures become ImageDecodeError with the DICOM library's message.
 */
import { DicomError, type DicomWindow, decodeFrame, renderFrame } from '@camflow/dicom';
import type { DecodedImage } from './decoded-image.js';
import { ImageDecodeError, type ImageDecodeErrorCode } from './errors.js';

export type { DicomWindow } from '@camflow/dicom';

export interface DicomOptions {
  maxPixels: number;
  /** Overrides the file's window. */
  window?: DicomWindow;
  /** Frame of a multi-frame instance (default 0). */
  frame?: number;
}

const CODES: Record<DicomError['code'], ImageDecodeErrorCode> = {
  corrupt: 'corrupt',
  truncated: 'truncated',
  'too-large': 'too-large',
  unsupported: 'unsupported-dicom',
  'no-pixels': 'unsupported-dicom',
};

/** Decodes one frame of a DICOM file to 8-bit grey (or RGB) pixels. */
export async function decodeDicom(bytes: Uint8Array, options: DicomOptions): Promise<DecodedImage> {
  try {
    const frame = await decodeFrame(bytes, { frame: options.frame, maxPixels: options.maxPixels });
    return {
      width: frame.width,
      height: frame.height,
      channels: frame.channels,
      data: renderFrame(frame, options.window),
      format: 'dicom',
      bitDepth: frame.bits,
    };
  } catch (err) {
    if (err instanceof DicomError) throw new ImageDecodeError(CODES[err.code], err.message);
    throw err;
  }
}
