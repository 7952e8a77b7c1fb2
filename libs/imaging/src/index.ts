// Public API of @camflow/imaging: bytes in, bytes out, no network IO.
export type {
  CamField,
  CamGrid,
  CamInterpolation,
  CamMapOptions,
  CellGrid,
  Heatmap,
} from './cammap.js';
export {
  alignCam,
  camField,
  camToOriginal,
  camToTensor,
  normalizeCam,
  seenRegion,
} from './cammap.js';
export type {
  CamAlignment,
  CamMethod,
  CardRender,
  CardTargets,
  Interpolation,
  ModelCard,
  ModelCardInput,
  ResizeMode,
} from './card.js';
export {
  CAM_ALIGNMENTS,
  CAM_METHODS,
  ModelCardError,
  modelCardSchema,
  parseCard,
  seedCard,
  seedCardJson,
} from './card.js';
export {
  CardModelMismatchError,
  cardModelIssues,
  checkCardAgainstModel,
  type GraphLike,
  type ModelIO,
  modelIO,
} from './card-check.js';
export type { ColormapName } from './colormap.js';
export { COLORMAPS, colormapLut } from './colormap.js';
export type { DecodedImage, DecodeOptions, ImageFormat } from './decode.js';
export { DEFAULT_MAX_PIXELS, decodeImage, sniffFormat } from './decode.js';
export type { DicomWindow } from './dicom.js';
export type { ImageDecodeErrorCode } from './errors.js';
export { ImageDecodeError } from './errors.js';
export type { Explanation, ExplanationOptions } from './explain.js';
export { fitWithin, renderExplanation, renderTensorOverlay } from './explain.js';
export type { Geometry, Rect, Size } from './geometry.js';
export { centerCropOffsets, computeGeometry, shorterSideSize } from './geometry.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { NpyFormatError, npyToFloat32, readNpy, writeNpy } from './npy.js';
export type { ColorizeOptions, OutputFormat, OverlayOptions, ViewOption } from './overlay.js';
export {
  colorizeHeatmap,
  DEFAULT_PNG_COMPRESSION,
  encodePixels,
  Grey16Rows,
  OverlayRows,
  overlayPixels,
  renderHeatmap16,
  renderOverlay,
} from './overlay.js';
export {
  classIndex,
  type EmptyCamReason,
  emptyCamReason,
  labelProbability,
  labelThresholds,
  type OutputKind,
  outputKind,
  predictedClass,
  predictedLabels,
} from './predictions.js';
export type { ImageInput, Preprocessed, PreprocessedBatch } from './preprocess.js';
export { preprocess, preprocessBatch, tensorPixels } from './preprocess.js';
export type { Pixels, ResampleFilter } from './resample.js';
export { resizePixels } from './resample.js';
export type { CamStats, CamStatsOptions, Mask } from './stats.js';
export { camStats, decodeMask, StatsRows, statsRows } from './stats.js';
export * from './synth/index.js';
