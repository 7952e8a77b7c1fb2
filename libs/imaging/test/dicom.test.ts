import { describe, expect, it } from 'vitest';
import { seedCard } from '../src/card.js';
import { decodeImage } from '../src/decode.js';
import { ImageDecodeError } from '../src/errors.js';
import { preprocess } from '../src/preprocess.js';
import { type DicomFixture, SYNTAX, writeDicom } from './helpers/dicom-writer.js';

const row = (pixels: number[], extra: Partial<DicomFixture> = {}): Uint8Array =>
  writeDicom({ rows: 1, columns: pixels.length, pixels, ...extra });

async function grey(bytes: Uint8Array, options = {}): Promise<number[]> {
  const image = await decodeImage(bytes, options);
  expect(image).toMatchObject({ format: 'dicom', channels: 1 });
  return Array.from(image.data);
}

async function decodeError(bytes: Uint8Array): Promise<ImageDecodeError> {
  try {
    await decodeImage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageDecodeError);
    const e = err as ImageDecodeError;
    expect(e.permanent).toBe(true);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('decodeImage accepted bad DICOM');
}

describe('DICOM windowing (PS3.3 C.11.2.1.2)', () => {
  const values = [0, 750, 1000, 1250, 2000];
  const windowed = { windowCenter: 1000, windowWidth: 500 };

  it('MONOCHROME2, 16-bit, LINEAR window from the file', async () => {
    // LINEAR: <= c - 0.5 - (w - 1) / 2 = 750 -> 0; > c - 0.5 + (w - 1) / 2 = 1249 -> 255;
    // 1000 -> ((1000 - 999.5) / 499 + 0.5) * 255 = 127.76.
    const image = await decodeImage(row(values, windowed));
    expect(image).toMatchObject({ width: 5, height: 1, bitDepth: 16 });
    expect(Array.from(image.data)).toEqual([0, 0, 128, 255, 255]);
  });

  it('MONOCHROME1 is inverted (bright = low values)', async () => {
    expect(await grey(row(values, { ...windowed, photometric: 'MONOCHROME1' }))).toEqual([
      255, 255, 127, 0, 0,
    ]);
  });

  it('uses the first of several windows, and a caller window overrides the file', async () => {
    const multi = row(values, { windowCenter: [1000, 40], windowWidth: [500, 80] });
    expect(await grey(multi)).toEqual([0, 0, 128, 255, 255]);
    // ((x - 999.5) / 2000 + 0.5) * 255: 750 -> 95.7, 1250 -> 159.4.
    expect(await grey(multi, { dicomWindow: { center: 1000, width: 2001 } })).toEqual([
      0, 96, 128, 159, 255,
    ]);
  });

  it('LINEAR_EXACT and SIGMOID functions', async () => {
    expect(await grey(row(values, { ...windowed, voiLutFunction: 'LINEAR_EXACT' }))).toEqual([
      0, 0, 128, 255, 255,
    ]);
    const sigmoid = await grey(row(values, { ...windowed, voiLutFunction: 'SIGMOID' }));
    const expected = values.map((x) => Math.round(255 / (1 + Math.exp((-4 * (x - 1000)) / 500))));
    expect(sigmoid).toEqual(expected);
  });

  it('without a window maps the full min..max range', async () => {
    expect(await grey(row([100, 200, 300]))).toEqual([0, 128, 255]);
    expect(await grey(row([7, 7, 7]))).toEqual([0, 0, 0]); // flat image: no division by zero
  });
});

describe('DICOM pixel formats', () => {
  it('signed 16-bit with rescale slope and intercept (modality units)', async () => {
    // stored [-2000, -1000, 0, 1000] * 2 + 10 = [-3990, -1990, 10, 2010]; full range 6000.
    const bytes = row([-2000, -1000, 0, 1000], { signed: true, slope: 2, intercept: 10 });
    expect(await grey(bytes)).toEqual([0, 85, 170, 255]);
    // Window in modality units (HU-like): centre 10, width 100; 10 -> (0.5 / 99 + 0.5) * 255.
    expect(await grey(bytes, { dicomWindow: { center: 10, width: 100 } })).toEqual([
      0, 0, 129, 255,
    ]);
  });

  it('12 bits stored in 16, ignoring bits above the high bit (overlays)', async () => {
    const bytes = row([0, 4095, 2048], { bitsStored: 12, junkHighBits: 0b1010 });
    const image = await decodeImage(bytes);
    expect(image.bitDepth).toBe(12);
    expect(Array.from(image.data)).toEqual([0, 255, 128]);
  });

  it('signed 12-bit values are sign-extended from the stored bits', async () => {
    expect(await grey(row([-2048, 0, 2047], { bitsStored: 12, signed: true }))).toEqual([
      0, 128, 255,
    ]);
  });

  it('8-bit, odd pixel count, several rows', async () => {
    const bytes = writeDicom({
      rows: 3,
      columns: 3,
      bitsAllocated: 8,
      pixels: [0, 10, 20, 30, 40, 50, 60, 70, 80],
    });
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([3, 3]);
    expect(Array.from(image.data)).toEqual([0, 32, 64, 96, 128, 159, 191, 223, 255]);
  });

  it('RGB 8-bit, interleaved', async () => {
    const bytes = writeDicom({
      rows: 1,
      columns: 2,
      bitsAllocated: 8,
      photometric: 'RGB',
      pixels: [255, 0, 0, 0, 128, 255],
    });
    const image = await decodeImage(bytes);
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual([255, 0, 0, 0, 128, 255]);
  });

  it('implicit VR, big endian and deflated syntaxes give the same pixels', async () => {
    const base = {
      rows: 2,
      columns: 3,
      pixels: [-5, 100, 900, 3000, -700, 12],
      signed: true,
      intercept: -3,
    };
    const expected = await grey(writeDicom(base));
    for (const transferSyntax of [SYNTAX.implicitLE, SYNTAX.explicitBE, SYNTAX.deflated]) {
      expect(await grey(writeDicom({ ...base, transferSyntax })), transferSyntax).toEqual(expected);
    }
  });

  it('feeds preprocessing like any grey image', async () => {
    // A portrait image, so the centre crop keeps every column.
    const pixels = Array.from({ length: 48 * 64 }, (_, i) => (i % 48) * 64);
    const { tensor, shape, geometry } = await preprocess(
      writeDicom({ rows: 64, columns: 48, pixels, bitsStored: 12, photometric: 'MONOCHROME1' }),
      seedCard,
    );
    expect(shape).toEqual([3, 256, 256]);
    expect(geometry.original).toEqual({ width: 48, height: 64 });
    // MONOCHROME1: the left column (lowest values) is white -> (1 - 0.5) / 0.5 = 1; the right
    // column (highest) is black -> -1.
    expect(tensor[0]).toBe(1);
    expect(tensor[255]).toBe(-1);
    expect(tensor[2 * 65536 + 255]).toBe(-1);
  });
});

describe('DICOM errors: one clear, permanent error each', () => {
  it('compressed syntaxes whose fragments hold no codestream name the codec (libs/dicom)', async () => {
    const cases: [string, RegExp][] = [
      [SYNTAX.jpegBaseline, /^DICOM JPEG baseline \(libjpeg-turbo\) frame/],
      [SYNTAX.jpeg2000, /^DICOM JPEG 2000 \(OpenJPEG\) frame/],
      [SYNTAX.rle, /^DICOM RLE frame/],
    ];
    for (const [transferSyntax, message] of cases) {
      const e = await decodeError(
        writeDicom({ rows: 2, columns: 2, pixels: [1, 2, 3, 4], transferSyntax }),
      );
      expect(['corrupt', 'truncated']).toContain(e.code);
      expect(e.message).toMatch(message);
    }
  });

  it('truncated pixel data and truncated headers', async () => {
    const bytes = writeDicom({ rows: 16, columns: 16, pixels: new Array(256).fill(5) });
    const cut = await decodeError(bytes.subarray(0, bytes.length - 100));
    expect(cut.code).toBe('truncated');
    expect(cut.message).toMatch(/^DICOM (pixel )?data is truncated/);
    const header = await decodeError(bytes.subarray(0, 140));
    expect(['truncated', 'corrupt']).toContain(header.code);
    expect(header.message).toMatch(/^DICOM/);
  });

  it('garbage after the DICM magic', async () => {
    const bytes = new Uint8Array(400).fill(0xab);
    bytes.set(Buffer.from('DICM', 'latin1'), 128);
    const e = await decodeError(bytes);
    expect(e.message).toMatch(/^DICOM data is (corrupt|truncated)/);
  });

  it('huge dimensions are refused before reading pixels', async () => {
    const bytes = writeDicom({ rows: 30000, columns: 30000, pixels: [1, 2] });
    const e = await decodeError(bytes);
    expect(e.code).toBe('too-large');
    expect(e.message).toBe('DICOM image is 30000x30000, over the 100000000-pixel limit');
  });

  it('palette images without their lookup tables', async () => {
    const palette = await decodeError(
      writeDicom({
        rows: 1,
        columns: 2,
        bitsAllocated: 8,
        pixels: [1, 2],
        photometric: 'PALETTE COLOR',
      }),
    );
    // Palette colour decodes (libs/dicom), but not without its lookup tables.
    expect(palette.message).toBe('DICOM PALETTE COLOR image lacks its Red lookup table');
    expect(palette.code).toBe('corrupt');
  });
});
