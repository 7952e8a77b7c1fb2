/**
 * Issue 3: the seed's preprocessing expressed as a card (`seedCard`) reproduces torchvision's
 * tensor within 2/255 per pixel. Goldens: test/fixtures/preprocess, written by
 * test/reference/camflow_ref/preprocess_goldens.py with Debian's python3-torchvision:
 * `Image.open(path).convert('RGB')` -> `Resize(256)`, `CenterCrop(256)`, `ToTensor()`,
 * `Normalize((0.5,)*3, (0.5,)*3)`, stored losslessly as the 8-bit image `u8` with
 * `t = (u8 / 255 - 0.5) / 0.5`.
 *
 * Tolerance, exactly: "2/255 per pixel" is in the units of the `ToTensor()` image (pixel values
 * in [0, 1]). With std = 0.5 a pixel error e becomes 2e in the normalised tensor, so we compare
 * the normalised tensors and require |t_camflow - t_torchvision| * std <= 2/255 (+1e-6 for
 * float32 rounding), i.e. <= 4/255 in normalised units, for every value (3 x 256 x 256).
 */
import { readFileSync } from 'node:fs';
import { type DecodeOptions, preprocess, readNpy, seedCard } from '@camflow/imaging';
import { describe, expect, it } from 'vitest';

interface Case {
  file: string;
  golden: string;
  width: number;
  height: number;
  mode: string;
  pilMode: string;
  exifOrientation?: number;
  deliberateDifference?: 'exif-orientation' | '16-bit';
  note?: string;
}

const dir = new URL('../../../test/fixtures/preprocess/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const index: { torchvision: string; pillow: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('index.json', dir), 'utf8'),
);

const STD = 0.5;
const MEAN = 0.5;
const TOLERANCE = 2 / 255; // per pixel, in ToTensor units ([0, 1])
const EPS = 1e-6;

/** The golden as torchvision's normalised tensor, float32 like torchvision computes it. */
function goldenTensor(name: string): Float32Array {
  const npy = readNpy(read(name));
  expect(npy.dtype).toBe('|u1');
  expect(npy.shape).toEqual([3, 256, 256]);
  const u8 = npy.data as Uint8Array;
  const t = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) t[i] = (Math.fround(u8[i] / 255) - MEAN) / STD;
  return t;
}

/** Largest difference in ToTensor units, and in 8-bit steps, and how many values differ. */
function compare(ours: Float32Array, theirs: Float32Array) {
  let max = 0;
  let differing = 0;
  for (let i = 0; i < theirs.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]) * STD;
    if (d > max) max = d;
    if (d * 255 > 0.5) differing++;
  }
  return { max, steps: max * 255, differing };
}

async function parity(c: Case, options?: DecodeOptions) {
  const { tensor, shape, geometry } = await preprocess(read(c.file), seedCard, options);
  expect(shape).toEqual([3, 256, 256]);
  const result = compare(tensor, goldenTensor(c.golden));
  return { ...result, geometry };
}

const report = (name: string, r: { max: number; steps: number; differing: number }) =>
  console.log(
    `torchvision parity ${name}: max |diff| ${r.max.toExponential(3)} (${r.steps.toFixed(3)}/255), ` +
      `${r.differing} of ${3 * 256 * 256} values differ by more than half a step`,
  );

describe(`seedCard vs torchvision ${index.torchvision} (Pillow ${index.pillow}) within 2/255 per pixel`, () => {
  it('has the goldens', () => {
    expect(index.cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const c of index.cases) {
    if (c.deliberateDifference === '16-bit') {
      // Documented deliberate difference (libs/imaging README, "Decoding"): Pillow opens a 16-bit
      // grey PNG as mode I and convert('RGB') clips every sample to 255 (the golden is almost all
      // white); camflow scales round(v / 257). Excluded from parity; we only check that the
      // difference is the documented one: camflow's image is not the clipped one.
      it(`${c.file} (${c.width}x${c.height} ${c.pilMode}): excluded, 16-bit scaling differs on purpose`, async () => {
        const r = await parity(c);
        report(`${c.file} [excluded: 16-bit v/257 vs PIL clip]`, r);
        expect(r.max).toBeGreaterThan(0.5);
      });
      continue;
    }

    if (c.deliberateDifference === 'exif-orientation') {
      // Documented deliberate difference (libs/imaging README, "Decoding"): camflow applies EXIF
      // orientation by default, torchvision does not. Parity holds with autoOrient: false, the
      // documented way to match a pipeline that ignores the tag.
      it(`${c.file} (${c.width}x${c.height} EXIF ${c.exifOrientation}) with autoOrient: false`, async () => {
        const r = await parity(c, { autoOrient: false });
        report(`${c.file} (autoOrient: false)`, r);
        expect(r.geometry.original).toEqual({ width: c.width, height: c.height });
        expect(r.max).toBeLessThanOrEqual(TOLERANCE + EPS);
      });
      it(`${c.file}: excluded by default, camflow rotates it (EXIF ${c.exifOrientation})`, async () => {
        const r = await parity(c);
        report(`${c.file} [excluded: default autoOrient rotates]`, r);
        expect(r.geometry.original).toEqual({ width: c.height, height: c.width });
        expect(r.max).toBeGreaterThan(TOLERANCE);
      });
      continue;
    }

    it(`${c.file} (${c.width}x${c.height} ${c.mode}, PIL ${c.pilMode})`, async () => {
      const r = await parity(c);
      report(c.file, r);
      expect(r.geometry.original).toEqual({ width: c.width, height: c.height });
      expect(r.max).toBeLessThanOrEqual(TOLERANCE + EPS);
    });
  }
});
