import { PermanentError, TransientError } from '@camflow/contracts';
import { describe, expect, test } from 'vitest';
import { toJobError } from '../src/job-errors.js';

describe('toJobError', () => {
  test('a buffer larger than memory allows is permanent: a retry cannot fit it either', () => {
    for (const message of [
      'Array buffer allocation failed',
      'Invalid typed array length: 30000000000',
    ]) {
      const e = toJobError(new RangeError(message));
      expect(e).toBeInstanceOf(PermanentError);
      expect(e.reason).toBe('allocation');
    }
    // A real allocation of 10^10 floats, as a 100000-pixel card used to ask for.
    let thrown: unknown;
    try {
      new Float32Array(1e10 * 3);
    } catch (err) {
      thrown = err;
    }
    expect(toJobError(thrown)).toMatchObject({ reason: 'allocation' });
  });

  test('other errors keep their classification', () => {
    expect(
      toJobError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
    ).toBeInstanceOf(TransientError);
    expect(toJobError(new RangeError('offset is out of bounds'))).toBeInstanceOf(TransientError);
  });
});
