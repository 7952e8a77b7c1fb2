// Orthanc (Debian `orthanc`, `orthanc-dicomweb`) as the hospital's PACS in tests: the same child
// process the demo and the DICOM benchmark start (own config, free ports, storage folder),
// stopped (SIGTERM) by close().
import {
  hasOrthanc,
  ORTHANC_BIN,
  ORTHANC_PLUGINS,
  type Orthanc,
  type OrthancOptions,
  startOrthanc as start,
} from '../../services/cli/src/demo/orthanc.js';

export { hasOrthanc, ORTHANC_BIN, ORTHANC_PLUGINS, type Orthanc };

/** Starts Orthanc under `dir` with `modalities` it may C-STORE to. */
export function startOrthanc(
  dir: string,
  modalities: Record<string, [string, string, number]>,
  opts: Omit<OrthancOptions, 'modalities'> = {},
): Promise<Orthanc> {
  return start(dir, { ...opts, modalities });
}
