// Public API of @camflow/imaging: bytes in, bytes out, no network IO.
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { NpyFormatError, npyToFloat32, readNpy, writeNpy } from './npy.js';
