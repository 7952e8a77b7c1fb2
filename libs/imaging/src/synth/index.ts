/**
 * Synthetic chest X-ray phantoms with ground truth (see README.md in this folder).
 */

export type { MarkerGlyph } from './glyphs.js';
export {
  encodeGreyPng,
  encodeSamplePngs,
  LABELS_CSV_HEADER,
  labelsCsv,
  labelsCsvRow,
  type SamplePngs,
  type WriteSynthOptions,
  type WriteSynthResult,
  writeSynthDataset,
} from './io.js';
export type { MarkerCorner, MarkerInfo } from './marker.js';
export { deriveSeed, Random } from './prng.js';
export {
  describeSample,
  type LesionInfo,
  markerProbability,
  NEGATIVE_MARKER_FACTOR,
  type SampleDescription,
  type SynthOptions,
  type SynthSample,
  synthesize,
  synthesizeSample,
} from './synthesize.js';
