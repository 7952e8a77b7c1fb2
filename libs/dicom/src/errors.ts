/** Why a DICOM file cannot be read or decoded. */
export type DicomErrorCode = 'corrupt' | 'truncated' | 'unsupported' | 'too-large' | 'no-pixels';

/**
 * A file that can never be decoded: the same bytes give the same error, so callers fail the job
 * at once (`permanent: true`). The message names what is wrong in one line and never carries
 * attribute values that could be PHI (only sizes, codes and UIDs of syntaxes or classes).
 */
export class DicomError extends Error {
  override name = 'DicomError';
  readonly permanent = true;
  constructor(
    readonly code: DicomErrorCode,
    message: string,
  ) {
    super(message.replace(/\s*\n\s*/g, ' ').trim());
  }
}
