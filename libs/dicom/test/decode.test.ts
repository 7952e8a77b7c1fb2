import { readNpy } from '@camflow/imaging';
import { describe, expect, it } from 'vitest';
import { type DicomFrame, decodeFrame, describeDicom, renderFrame } from '../src/index.js';
import { expected, fixture } from './fixtures.js';

// pydicom's stored values of each original (int32 .npy), the independent reference.
const reference = (name: string) => readNpy(fixture(`${name}.values.npy`));

function stats(a: Float32Array, b: Float32Array) {
  let maxAbs = 0;
  let se = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    maxAbs = Math.max(maxAbs, d);
    se += d * d;
    lo = Math.min(lo, b[i]);
    hi = Math.max(hi, b[i]);
  }
  const mse = se / a.length;
  return {
    maxAbs,
    psnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((hi - lo) ** 2 / mse),
  };
}

const originals = new Map<string, DicomFrame[]>();
async function original(name: string, frame: number): Promise<DicomFrame> {
  if (!originals.has(name)) {
    const bytes = fixture(`${name}.explicit-le.dcm`);
    const n = describeDicom(bytes).frames ?? 1;
    originals.set(
      name,
      await Promise.all(Array.from({ length: n }, (_, f) => decodeFrame(bytes, { frame: f }))),
    );
  }
  return originals.get(name)![frame];
}

describe('the uncompressed originals against pydicom', () => {
  it.each(['ct16s', 'mr12', 'dx1', 'xa8', 'rgb8', 'pal8'])('%s', async (name) => {
    const ref = reference(name);
    const frames = ref.shape.length === 3 && name !== 'rgb8' ? ref.shape[0] : 1;
    const perFrame = ref.data.length / frames;
    for (let f = 0; f < frames; f++) {
      const got = await original(name, f);
      const stored = Array.from(ref.data.subarray(f * perFrame, (f + 1) * perFrame) as Int32Array);
      let want: number[];
      if (name === 'ct16s')
        want = stored.map((v) => v - 1024); // slope 1, intercept -1024
      else if (name === 'mr12')
        want = stored.map((v) => v * 2); // slope 2
      else if (name === 'pal8')
        want = stored.flatMap((i) => [i, 255 - i, i >> 1]); // the LUTs
      else want = stored;
      expect(Array.from(got.data)).toEqual(want);
    }
  });

  it('describes what is stored', () => {
    expect(describeDicom(fixture('ct16s.jpeg-ls.dcm'))).toMatchObject({
      format: 'dicom',
      width: 64,
      height: 48,
      channels: 1,
      bitsAllocated: 16,
      bitsStored: 16,
      signed: true,
      photometricInterpretation: 'MONOCHROME2',
      frames: 1,
      transferSyntax: { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless' },
    });
    expect(describeDicom(fixture('xa8.rle.dcm')).frames).toBe(3);
    expect(describeDicom(fixture('rgb8.jpeg-baseline.dcm')).photometricInterpretation).toBe(
      'YBR_FULL_422',
    );
  });
});

describe('every transfer syntax decodes like its original', () => {
  const cases = Object.entries(expected).filter(([f]) => !f.endsWith('.explicit-le.dcm'));
  it.each(cases)('%s', async (file, e) => {
    const bytes = fixture(file);
    expect(describeDicom(bytes).transferSyntax.uid).toBe(e.transferSyntax);
    const frames = describeDicom(bytes).frames ?? 1;
    for (let f = 0; f < frames; f++) {
      const [got, want] = await Promise.all([
        decodeFrame(bytes, { frame: f }),
        original(e.original, f),
      ]);
      expect([got.width, got.height, got.channels]).toEqual([
        want.width,
        want.height,
        want.channels,
      ]);
      if (e.lossless) {
        expect(got.data).toEqual(want.data);
        continue;
      }
      // The same file through the generating tools' decoder (dcmdjpeg, dcmdjpls, gdcmconv
      // --raw): another implementation, so IDCT/wavelet rounding may differ by 1 stored unit.
      if (e.decoded && f === 0) {
        const ref = readNpy(fixture(e.decoded)).data as Int32Array;
        const raw = await decodeFrame(bytes, { frame: 0 });
        const slope = e.original === 'mr12' ? 2 : 1;
        const intercept = e.original === 'ct16s' ? -1024 : 0;
        const mapped = Float32Array.from(ref.subarray(0, raw.data.length), (v) =>
          raw.channels === 1 ? v * slope + intercept : v,
        );
        expect(stats(raw.data, mapped).maxAbs, 'vs the reference decoder').toBeLessThanOrEqual(
          slope,
        );
      }
      const s = stats(got.data, want.data);
      if (e.tolerance?.maxAbs !== undefined) {
        // JPEG-LS NEAR=2 (in stored units; mr12's slope 2 doubles it), YBR_FULL rounding.
        const slope = e.original === 'mr12' ? 2 : 1;
        expect(s.maxAbs, `max abs error, frame ${f}`).toBeLessThanOrEqual(
          e.tolerance.maxAbs * slope,
        );
      }
      if (e.tolerance?.psnr !== undefined)
        expect(s.psnr, `PSNR, frame ${f}`).toBeGreaterThan(e.tolerance.psnr);
    }
  });
});

describe('rendering for models', () => {
  it('applies the file window, and inverts MONOCHROME1', async () => {
    const ct = await decodeFrame(fixture('ct16s.rle.dcm'));
    const px = renderFrame(ct);
    // Window 40/400 (LINEAR): -160 HU and below black, 240 HU and above white.
    for (let i = 0; i < px.length; i++) {
      if (ct.data[i] <= -160.5) expect(px[i]).toBe(0);
      if (ct.data[i] > 239.5) expect(px[i]).toBe(255);
    }
    const dx = await decodeFrame(fixture('dx1.jpeg-ls.dcm'));
    const plain = renderFrame({ ...dx, invert: false });
    const shown = renderFrame(dx);
    expect(Array.from(shown)).toEqual(Array.from(plain, (v) => 255 - v));
  });
});
