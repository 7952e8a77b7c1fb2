/** Why an input could not be turned into pixels. */
export type ImageDecodeErrorCode =
  | 'empty'
  | 'unsupported-format'
  | 'too-large'
  | 'truncated'
  | 'corrupt'
  | 'unsupported-dicom';

/**
 * An input that can never be decoded: retrying the same bytes gives the same error, so workers
 * fail the job at once (`permanent: true`). The message is one line meant for users.
 */
export class ImageDecodeError extends Error {
  readonly permanent = true;
  constructor(
    readonly code: ImageDecodeErrorCode,
    message: string,
  ) {
    // Decoder messages can span lines; users and logs get one.
    super(message.replace(/\s*\n\s*/g, ' ').trim());
    this.name = 'ImageDecodeError';
  }
}
