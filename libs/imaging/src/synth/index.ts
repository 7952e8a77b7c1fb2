/**
 * Synthetic chest X-ray phantoms with ground truth (see README.md in this folder).
 */

export { ARTIFACT_KINDS, type ArtifactInfo, type ArtifactKind } from './artifact.js';
export { BAND_TEXTS, type BandInfo, type BandPlace, type BandText } from './band.js';
export { ELECTRODE_MAX_LUNG_SHARE, type ElectrodeInfo } from './electrode.js';
export type { Glyph, MarkerGlyph } from './glyphs.js';
export {
  assignSplits,
  classFolders,
  DEFAULT_SPLITS,
  encodeFilm,
  type SplitShare,
  type WriteImageFolderOptions,
  type WriteImageFolderResult,
  writeImageFolder,
} from './imagefolder.js';
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
  classNames,
  describeSample,
  findingMask,
  type LesionInfo,
  markerProbability,
  NEGATIVE_MARKER_FACTOR,
  type SampleDescription,
  type SynthLabel,
  type SynthOptions,
  type SynthSample,
  synthesize,
  synthesizeSample,
} from './synthesize.js';
