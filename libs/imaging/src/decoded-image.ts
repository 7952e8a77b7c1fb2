import type { Pixels } from './resample.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'dicom';

/**
 * Decoded pixels: 8-bit, row-major, interleaved; 1 channel for grey sources (and colour ones
 * whose every pixel is grey), else 3 (RGB).
 */
export interface DecodedImage extends Pixels {
  channels: 1 | 3;
  format: ImageFormat;
  /** Bits per sample in the source (16-bit sources are scaled to 8 bits: v / 257, rounded). */
  bitDepth: number;
}
