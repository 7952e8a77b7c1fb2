// Public API of @camflow/dicom: DICOM bytes in, values and bytes out; no network IO.
export type { DecodedFrame } from './codecs/index.js';
export {
  DEFAULT_MAX_PIXELS,
  type DecodeFrameOptions,
  type DicomFrame,
  decodeFrame,
  decodeFrameOf,
  renderFrame,
} from './decode.js';
export { DicomError, type DicomErrorCode } from './errors.js';
export {
  DX_FOR_PRESENTATION,
  encodeGreyInstance,
  type GreyInstanceInput,
} from './grey-instance.js';
export { type DicomHeader, type PixelHeader, readHeader, transferSyntaxOf } from './header.js';
export { type DicomDescription, describeDicom } from './inspect.js';
export { applyVoi, type DicomWindow, type VoiSettings, voiFunction } from './lut.js';
export { type DataSet, isPart10, parseDicom, text } from './parse.js';
export { type FileMeta, IMPLEMENTATION_CLASS_UID, toPart10 } from './part10.js';
export {
  derivedUid,
  encodeSecondaryCapture,
  readSourceStudy,
  SECONDARY_CAPTURE,
  type SecondaryCapture,
  type SecondaryCaptureInput,
  type SourceStudy,
} from './secondary-capture.js';
export {
  DECODABLE_SYNTAXES,
  describeSyntax,
  TRANSFER_SYNTAXES,
  type TransferSyntax,
} from './syntaxes.js';
