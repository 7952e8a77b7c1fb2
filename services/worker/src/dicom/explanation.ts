/**
 * The DICOM side of an explain job: when the source is a DICOM instance, write its explanation
 * as a Secondary Capture next to the other outputs (`explanation.dcm`) and, when the job names
 * a destination, send it there. Called by process-job.ts after rendering.
 */
import { type DicomDestinations, type ExplainSettings, PermanentError } from '@camflow/contracts';
import { isPart10, readSourceStudy, type SourceStudy } from '@camflow/dicom';
import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import { deliver } from './deliver.js';
import { secondaryCapture } from './secondary-capture.js';

export interface DicomOutputDeps {
  destinations: DicomDestinations;
  logger?: Logger;
}

let warnedUncaptioned = false;

/**
 * Reads what the Secondary Capture needs from the source, before its bytes move to an image
 * thread. Undefined for non-DICOM sources, and for DICOM ones without the UIDs a Secondary
 * Capture needs unless the job came from the DICOM intake (then that is an error).
 */
export function dicomSourceOf(
  bytes: Uint8Array,
  settings: ExplainSettings,
): SourceStudy | undefined {
  if (!isPart10(bytes)) return undefined;
  try {
    return readSourceStudy(bytes);
  } catch (err) {
    if (settings.dicom) throw err;
    return undefined;
  }
}

export interface WriteDicomInput {
  source: SourceStudy;
  settings: ExplainSettings;
  jobId: string;
  overlay: Uint8Array;
  width: number;
  height: number;
  prediction: string;
  bucket: string;
  /** Where result.json goes: explanation.dcm sits beside it. */
  resultKey: string;
}

/** Writes the Secondary Capture to S3, then delivers it; returns its key. */
export async function writeDicomExplanation(
  store: ObjectStore,
  deps: DicomOutputDeps | undefined,
  input: WriteDicomInput,
): Promise<string> {
  const sc = await secondaryCapture({
    source: input.source,
    overlay: input.overlay,
    width: input.width,
    height: input.height,
    model: input.settings.model,
    method: input.settings.method,
    jobId: input.jobId,
    frame: input.settings.dicom?.frame,
    prediction: input.prediction,
  });
  if (!sc.captioned && !warnedUncaptioned) {
    warnedUncaptioned = true;
    deps?.logger?.warn(
      'Secondary Captures go without their burned-in caption (text rendering failed: install a font, e.g. fonts-dejavu-core); BurnedInAnnotation says NO, ImageComments keeps the caption',
    );
  }
  const key = input.resultKey.replace(/result\.json$/, 'explanation.dcm');
  await store.put(input.bucket, key, sc.bytes, 'application/dicom');
  const name = input.settings.dicom?.destination;
  if (name) {
    const destination = deps?.destinations[name];
    if (!destination) {
      throw new PermanentError(
        'unknown-destination',
        `DICOM destination "${name}" is not in CAMFLOW_DICOM_DESTINATIONS`,
      );
    }
    await deliver(name, destination, sc.bytes);
  }
  return key;
}
