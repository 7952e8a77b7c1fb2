// Public API of @camflow/dicom-service: the DIMSE receiver (`camflow serve dicom`).
export {
  type DicomService,
  type DicomServiceOptions,
  parseAllowedAets,
  startDicomService,
} from './dicom-service.js';
export { type ScpHandlers, STORE_STATUS, storeScpClass } from './scp/store-scp.js';
