import { describe, expect, it } from 'vitest';
import {
  type CamGrid,
  type CamMapOptions,
  camField,
  camToOriginal,
  camToTensor,
  normalizeCam,
} from '../src/cammap.js';
import { parseCard, seedCard } from '../src/card.js';
import { computeGeometry, type Geometry } from '../src/geometry.js';
import { tensorPixels } from '../src/preprocess.js';
import { resampleFloat, tapsAt } from '../src/resample.js';
import { picture, png } from './helpers/pixels.js';

// An 8x8 CAM with values k/16, max exactly 1 (so normalising leaves it unchanged).
const cam: CamGrid = {
  width: 8,
  height: 8,
  data: Float32Array.from({ length: 64 }, (_, i) => ((i * 37) % 17) / 16),
};

/** An 8x8 CAM that is zero except one cell. */
const hotCell = (col: number, row: number): CamGrid => {
  const data = new Float32Array(64);
  data[row * 8 + col] = 5;
  return { width: 8, height: 8, data };
};

function argmax(map: { width: number; data: Float32Array }): [number, number] {
  let best = 0;
  for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
  return [best % map.width, Math.floor(best / map.width)];
}

describe('normalizeCam', () => {
  it('applies ReLU and divides by the maximum', () => {
    const out = normalizeCam({ width: 2, height: 2, data: [2, -1, 4, Number.NaN] });
    expect(Array.from(out.data)).toEqual([0.5, 0, 1, 0]);
  });

  it('leaves an all-zero or all-negative CAM at zero instead of NaN', () => {
    expect(Array.from(normalizeCam({ width: 2, height: 1, data: [0, 0] }).data)).toEqual([0, 0]);
    expect(Array.from(normalizeCam({ width: 2, height: 1, data: [-3, -1] }).data)).toEqual([0, 0]);
  });

  it('rejects data of the wrong length', () => {
    expect(() => normalizeCam({ width: 3, height: 3, data: [1, 2] })).toThrow(
      /2 values, expected 3x3/,
    );
  });
});

describe('camToTensor (the seed picture) matches Pillow resizing a float image', () => {
  // Values from Pillow 12.3.0: Image.fromarray(cam, 'F').resize((256, 256), resample).
  const pillow = {
    bicubic: [
      [0, 0, -0.07746244221925735],
      [0, 255, 0.2190150022506714],
      [255, 0, 1.1164922714233398],
      [255, 255, -0.0772310271859169],
      [17, 200, 0.22264614701271057],
      [100, 3, 0.4634830951690674],
      [128, 128, 0.619777262210846],
      [31, 32, 0.2826785743236542],
      [200, 77, 0.8610471487045288],
      [250, 5, 1.086020827293396],
    ],
    bilinear: [
      [0, 0, 0],
      [0, 255, 0.25],
      [255, 0, 0.9375],
      [255, 255, 0.125],
      [17, 200, 0.2764129638671875],
      [100, 3, 0.474609375],
      [128, 128, 0.5869140625],
      [31, 32, 0.30859375],
      [200, 77, 0.7578125],
      [250, 5, 0.9375],
    ],
  } as const;
  const sums = { bicubic: 32369.296875, bilinear: 32384 };

  for (const interpolation of ['bicubic', 'bilinear'] as const) {
    it(interpolation, () => {
      const map = camToTensor(
        cam,
        { width: 256, height: 256 },
        { interpolation, normalize: false },
      );
      for (const [y, x, v] of pillow[interpolation])
        expect(map.data[y * 256 + x]).toBeCloseTo(v, 6);
      expect(map.data.reduce((s, v) => s + v, 0)).toBeCloseTo(sums[interpolation], 1);
    });
  }

  it('a non-square target (300x200)', () => {
    const map = camToTensor(cam, { width: 300, height: 200 }, { normalize: false });
    expect(map.data[0]).toBeCloseTo(-0.0773506611585617, 6);
    expect(map.data[199 * 300 + 299]).toBeCloseTo(-0.0771508440375328, 6);
    expect(map.data[50 * 300 + 150]).toBeCloseTo(0.4678816795349121, 6);
    expect(map.data[120 * 300 + 33]).toBeCloseTo(0.6221113801002502, 6);
  });

  it('clamps the bicubic overshoot to [0, 1] when normalising', () => {
    const map = camToTensor(cam, { width: 256, height: 256 });
    expect(map.data[0]).toBe(0); // Pillow: -0.077
    expect(map.data[255 * 256]).toBe(1); // Pillow: 1.116
    expect(map.data[128 * 256 + 128]).toBeCloseTo(0.619777262210846, 6);
  });

  it('nearest keeps the grid values as blocks', () => {
    const map = camToTensor(cam, { width: 16, height: 16 }, { interpolation: 'nearest' });
    expect(map.data[0]).toBe(cam.data[0]);
    expect(map.data[1]).toBe(cam.data[0]);
    expect(map.data[2]).toBe(cam.data[1]);
    expect(map.data[15 * 16 + 15]).toBe(cam.data[63]);
  });
});

describe('camToOriginal', () => {
  it('equals the seed picture when the original is the tensor size', () => {
    const geometry = computeGeometry(256, 256, seedCard);
    expect(camToOriginal(cam, geometry).data).toEqual(camToTensor(cam, geometry.tensor).data);
  });

  it('covers a 300x200 original at full resolution with no heat outside the centre crop', () => {
    const geometry = computeGeometry(300, 200, seedCard); // resized 384x256, crop left 64
    const uniform = { width: 8, height: 8, data: new Float32Array(64).fill(3) };
    const map = camToOriginal(uniform, geometry);
    expect([map.width, map.height]).toEqual([300, 200]);
    // Original column x is kept iff its centre (x + 0.5) * 1.28 lies in [64, 320): x in 50..249.
    for (const y of [0, 100, 199]) {
      expect(map.data[y * 300 + 49]).toBe(0);
      expect(map.data[y * 300 + 50]).toBe(1);
      expect(map.data[y * 300 + 249]).toBe(1);
      expect(map.data[y * 300 + 250]).toBe(0);
    }
  });

  it('puts the peak where the hot cell lies in the original (centre crop)', () => {
    const geometry = computeGeometry(300, 200, seedCard);
    // Cell (6, 2) is centred at tensor (208, 80) -> resized (272, 80) -> original (212.5, 62.5).
    const [x, y] = argmax(camToOriginal(hotCell(6, 2), geometry));
    expect(Math.abs(x + 0.5 - 212.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(y + 0.5 - 62.5)).toBeLessThanOrEqual(1);
  });

  it('undoes letterboxing: the bars are not part of the original', () => {
    const card = parseCard({
      name: 'm',
      version: '1',
      input: { size: 256, resize: 'letterbox' },
      output: { activation: 'sigmoid', classes: ['a'] },
    });
    const geometry = computeGeometry(300, 200, card); // content 256x171 at top 42
    expect(geometry.padding.top).toBe(42);
    // Cell (6, 2) centre (208, 80) in the tensor -> content (208, 38) -> original (243.75, 44.4).
    const [x, y] = argmax(camToOriginal(hotCell(6, 2), geometry));
    expect(Math.abs(x + 0.5 - 243.75)).toBeLessThanOrEqual(1);
    expect(Math.abs(y + 0.5 - 44.44)).toBeLessThanOrEqual(1);
    // Heat only in the top bar (row 0 of the CAM covers tensor rows 0..31, all bar) never shows.
    const barOnly = camToOriginal(hotCell(3, 0), geometry, { interpolation: 'nearest' });
    expect(barOnly.data.every((v) => v === 0)).toBe(true);
  });

  it('undoes a stretch', () => {
    const card = parseCard({
      name: 'm',
      version: '1',
      input: { size: 64, resize: 'stretch' },
      output: { activation: 'sigmoid', classes: ['a'] },
    });
    const geometry = computeGeometry(400, 100, card);
    // Cell (1, 6) centre in tensor (12, 52) -> original (75, 81.25).
    const [x, y] = argmax(camToOriginal(hotCell(1, 6), geometry));
    expect(Math.abs(x + 0.5 - 75)).toBeLessThanOrEqual(1);
    expect(Math.abs(y + 0.5 - 81.25)).toBeLessThanOrEqual(1);
  });

  it('handles an original smaller than the CAM and an all-zero CAM', () => {
    const tiny = camToOriginal(cam, computeGeometry(3, 2, seedCard));
    expect([tiny.width, tiny.height]).toEqual([3, 2]);
    expect(tiny.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const zero = { width: 8, height: 8, data: new Float32Array(64) };
    const map = camToOriginal(zero, computeGeometry(300, 200, seedCard));
    expect(map.data.every((v) => v === 0)).toBe(true);
  });
});

/**
 * The straightforward whole-map version camToOriginal had before it streamed rows: per axis the
 * original pixels whose centres fall in the crop, their centres on the CAM grid, one separable
 * resampleFloat, clamp.
 */
function referenceToOriginal(c: CamGrid, g: Geometry, opts: CamMapOptions = {}) {
  const grid =
    opts.normalize === false ? { ...c, data: Float32Array.from(c.data) } : normalizeCam(c);
  const interpolation = opts.interpolation ?? 'bicubic';
  const axis = (
    o: number,
    r: number,
    cs: number,
    cn: number,
    pad: number,
    t: number,
    n: number,
  ) => {
    const toR = r / o;
    const toC = n / t;
    const idx = [];
    for (let i = 0; i < o; i++) {
      const p = (i + 0.5) * toR;
      if (p >= cs && p < cs + cn) idx.push(i);
    }
    const centres = Float64Array.from(idx, (i) => ((i + 0.5) * toR - cs + pad) * toC);
    if (interpolation === 'nearest') {
      const start = Int32Array.from(centres, (x) => Math.min(n - 1, Math.max(0, Math.floor(x))));
      const ones = new Int32Array(idx.length).fill(1);
      return {
        first: idx[0],
        taps: { start, count: ones, weights: new Float64Array(idx.length).fill(1), ksize: 1 },
      };
    }
    return { first: idx[0], taps: tapsAt(n, centres, interpolation, toR * toC) };
  };
  const { original: o, resized: r, crop, padding: p, tensor: t } = g;
  const xs = axis(o.width, r.width, crop.left, crop.width, p.left, t.width, grid.width);
  const ys = axis(o.height, r.height, crop.top, crop.height, p.top, t.height, grid.height);
  const block = resampleFloat(grid.data, grid.width, grid.height, xs.taps, ys.taps);
  if (opts.normalize !== false)
    for (let i = 0; i < block.length; i++) block[i] = Math.min(1, Math.max(0, block[i]));
  const out = new Float32Array(o.width * o.height);
  const bw = xs.taps.start.length;
  for (let y = 0; y < ys.taps.start.length; y++)
    out.set(block.subarray(y * bw, (y + 1) * bw), (ys.first + y) * o.width + xs.first);
  return out;
}

describe('camField (camToOriginal row by row)', () => {
  const letterbox = parseCard({
    name: 'm',
    version: '1',
    input: { size: [64, 96], resize: 'letterbox' },
    output: { activation: 'sigmoid', classes: ['a'] },
  });
  const stretch = parseCard({
    name: 'm',
    version: '1',
    input: { size: 64, resize: 'stretch' },
    output: { activation: 'sigmoid', classes: ['a'] },
  });
  const cases: [string, Geometry][] = [
    ['crop 300x200', computeGeometry(300, 200, seedCard)],
    ['crop 257x1000', computeGeometry(257, 1000, seedCard)],
    ['crop 1024x1024', computeGeometry(1024, 1024, seedCard)],
    ['letterbox 333x261', computeGeometry(333, 261, letterbox)],
    ['stretch 400x100', computeGeometry(400, 100, stretch)],
    ['tiny 3x2', computeGeometry(3, 2, seedCard)],
  ];
  for (const [name, geometry] of cases) {
    it(`gives exactly the whole-map values: ${name}`, () => {
      for (const interpolation of ['bicubic', 'bilinear', 'nearest'] as const) {
        for (const normalize of [true, false]) {
          const opts = { interpolation, normalize };
          const got = camToOriginal(cam, geometry, opts).data;
          const want = referenceToOriginal(cam, geometry, opts);
          expect(got.length).toBe(want.length);
          // Object.is: bit-identical, -0 included (toEqual on megapixel arrays is slow).
          expect(got.findIndex((v, i) => !Object.is(v, want[i]))).toBe(-1);
        }
      }
    });
  }

  it('reports the region the CAM covers', () => {
    const field = camField(cam, computeGeometry(300, 200, seedCard));
    expect(field.region).toEqual({ left: 50, top: 0, width: 200, height: 200 });
    expect(field.image).toEqual({ width: 300, height: 200 });
  });
});

describe('tensorPixels', () => {
  it('returns the crop the model sees, as 8-bit RGB at the tensor size', async () => {
    const rgb = picture(300, 200, 3);
    const pixels = await tensorPixels(await png(rgb, 300, 200, 3), seedCard);
    expect([pixels.width, pixels.height, pixels.channels]).toEqual([256, 256, 3]);
    const card = parseCard({
      name: 'm',
      version: '1',
      input: { size: 4, resize: 'letterbox', pad: 9 },
      output: { activation: 'sigmoid', classes: ['a'] },
    });
    const boxed = await tensorPixels(await png(new Uint8Array(8).fill(200), 4, 2, 1), card);
    expect(Array.from(boxed.data.subarray(0, 12))).toEqual(new Array(12).fill(9));
    expect(Array.from(boxed.data.subarray(12, 36))).toEqual(new Array(24).fill(200));
  });
});

describe('cell grids (receptive-field alignment)', () => {
  const withGrid = (c: CamGrid, origin: number, stride: number): CamGrid => ({
    ...c,
    grid: { origin: [origin, origin], stride: [stride, stride] },
  });

  it('a grid centred like an image resize ((stride - 1) / 2) changes nothing', () => {
    const tensor = { width: 256, height: 256 };
    const plain = camToTensor(cam, tensor).data;
    const gridded = camToTensor(withGrid(cam, 15.5, 32), tensor).data;
    for (let i = 0; i < plain.length; i++) expect(gridded[i]).toBeCloseTo(plain[i], 6);
    const geometry = computeGeometry(300, 200, seedCard);
    const a = camToOriginal(cam, geometry).data;
    const b = camToOriginal(withGrid(cam, 15.5, 32), geometry).data;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);
  });

  it('draws a hot cell on its receptive-field centre: tensor pixel origin + stride * i', () => {
    const tensor = { width: 256, height: 256 };
    // ResNet geometry (origin 0): cell (6, 2) looks at tensor pixel (192, 64) ...
    const aligned = camToTensor(withGrid(hotCell(6, 2), 0, 32), tensor);
    expect(argmax(aligned)).toEqual([192, 64]);
    expect(aligned.data[64 * 256 + 192]).toBe(1);
    // ... which an image resize draws 15.5 px right of and below that.
    const [x, y] = argmax(camToTensor(hotCell(6, 2), tensor));
    expect([x, y]).toEqual([207, 79]);
  });

  it('aligns on the original image too, through the crop', () => {
    const geometry = computeGeometry(300, 200, seedCard); // resized 384x256, crop left 64
    // Tensor pixel (192, 64) -> resized (256, 64) -> original centre (200.5, 50.5) / 1.28.
    const [x, y] = argmax(camToOriginal(withGrid(hotCell(6, 2), 0, 32), geometry));
    expect(Math.abs(x + 0.5 - 256.5 / 1.28)).toBeLessThanOrEqual(1);
    expect(Math.abs(y + 0.5 - 64.5 / 1.28)).toBeLessThanOrEqual(1);
  });

  it('rejects a grid with no stride', () => {
    expect(() => camToTensor(withGrid(cam, 0, 0), { width: 8, height: 8 })).toThrow(/stride/);
  });
});
