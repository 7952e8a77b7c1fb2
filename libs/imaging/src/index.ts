// Public API of @camflow/imaging: bytes in, bytes out, no network IO.
export type {
  CamMethod,
  Interpolation,
  ModelCard,
  ModelCardInput,
  ResizeMode,
} from './card.js';
export {
  CAM_METHODS,
  ModelCardError,
  modelCardSchema,
  parseCard,
  seedCard,
  seedCardJson,
} from './card.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { NpyFormatError, npyToFloat32, readNpy, writeNpy } from './npy.js';
