import { classifyError, PermanentError, type TransientError } from '@camflow/contracts';
import { CompileError, InputShapeError, UnsupportedOpError } from '@camflow/engine';
import { ImageDecodeError, ModelCardError } from '@camflow/imaging';
import { OnnxFormatError, UnknownLayerError } from '@camflow/onnx';

// Errors from the engine and the model files that no retry can fix, by class name: names survive
// the trip from the engine thread (structured clone keeps name and message, not the class).
const PERMANENT_BY_NAME = new Map<string, string>([
  [UnknownLayerError.name, 'unknown-layer'],
  [UnsupportedOpError.name, 'unsupported-op'],
  [CompileError.name, 'compile-error'],
  [InputShapeError.name, 'input-shape'],
  [OnnxFormatError.name, 'invalid-model'],
  [ModelCardError.name, 'invalid-card'],
]);

/**
 * Permanent or transient, for any error a job can raise: engine and imaging errors get their own
 * reasons (an undecodable image fails with its decode code, e.g. `corrupt`); everything else goes
 * through the contracts' `classifyError`, the one place that decides retries.
 */
export function toJobError(err: unknown): PermanentError | TransientError {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (err instanceof ImageDecodeError || e?.name === 'ImageDecodeError') {
    return new PermanentError(e?.code ?? 'undecodable', firstLine(e?.message));
  }
  // An input larger than memory allows never fits on a retry either.
  if (
    e?.name === 'RangeError' &&
    /allocation failed|invalid typed array length|array buffer/i.test(e.message ?? '')
  ) {
    return new PermanentError(
      'allocation',
      `cannot allocate the job's buffers: ${firstLine(e.message)}`,
    );
  }
  const reason = e?.name ? PERMANENT_BY_NAME.get(e.name) : undefined;
  if (reason) return new PermanentError(reason, firstLine(e?.message));
  return classifyError(err);
}

function firstLine(message: string | undefined): string {
  return String(message ?? '').split('\n')[0];
}
