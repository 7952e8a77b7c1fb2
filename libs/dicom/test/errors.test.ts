import { describe, expect, it } from 'vitest';
import { DicomError, decodeFrame } from '../src/index.js';
import { FIXTURE_PHI, fixture } from './fixtures.js';

async function failure(bytes: Uint8Array, frame?: number): Promise<DicomError> {
  try {
    await decodeFrame(bytes, frame === undefined ? {} : { frame });
  } catch (err) {
    expect(err).toBeInstanceOf(DicomError);
    const e = err as DicomError;
    expect(e.permanent).toBe(true);
    for (const phi of FIXTURE_PHI) expect(e.message).not.toContain(phi);
    return e;
  }
  throw new Error('decoded without error');
}

const replace = (bytes: Uint8Array, from: string, to: string) => {
  const s = Buffer.from(bytes).toString('latin1');
  expect(s).toContain(from);
  return new Uint8Array(Buffer.from(s.replace(from, to), 'latin1'));
};

describe('bad DICOM files fail clearly and permanently', () => {
  it('native pixel data cut short names the bytes', async () => {
    const b = fixture('ct16s.explicit-le.dcm');
    const e = await failure(b.subarray(0, b.length - 1000));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/pixel data is truncated: frame 0 needs bytes 0\.\.6144/);
  });

  it('a compressed file cut inside its fragment', async () => {
    const b = fixture('mr12.j2k.dcm');
    const e = await failure(b.subarray(0, b.length - 500));
    expect(e.code).toBe('truncated');
  });

  it('a corrupt codestream names the codec', async () => {
    const b = fixture('rgb8.jpeg-ls.dcm').slice();
    // Overwrite the middle of the JPEG-LS codestream (after its header) with a marker soup.
    b.fill(0xff, b.length - 3000, b.length - 2900);
    const e = await failure(b);
    expect(e.message).toMatch(/JPEG-LS \(CharLS\)/);
  });

  it('an unsupported transfer syntax is named', async () => {
    const b = replace(
      fixture('xa8.jpeg-baseline.dcm'),
      '1.2.840.10008.1.2.4.50',
      '1.2.840.10008.1.2.4.92',
    );
    const e = await failure(b);
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe(
      'DICOM transfer syntax 1.2.840.10008.1.2.4.92 (JPEG 2000 Part 2 Multi-component (Lossless Only)) is not supported',
    );
  });

  it('inconsistent headers, missing frames, not DICOM at all', async () => {
    const bits = replace(fixture('rgb8.explicit-le.dcm'), 'RGB', 'MO1');
    expect((await failure(bits)).message).toMatch(
      /photometric interpretation "MO1" is not supported/,
    );
    expect((await failure(fixture('xa8.rle.dcm'), 3)).message).toBe(
      'DICOM frame 3 does not exist (3 frames)',
    );
    const png = new Uint8Array(200).fill(0x41);
    expect((await failure(png)).message).toMatch(/not a DICOM Part 10 file/);
    expect((await failure(new Uint8Array(10))).message).toMatch(/too short \(10 bytes/);
  });
});
