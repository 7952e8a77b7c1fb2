import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseCard, seedCard } from '../src/card.js';
import { decodeImage } from '../src/decode.js';
import {
  centerCropOffsets,
  computeGeometry,
  roundHalfEven,
  shorterSideSize,
} from '../src/geometry.js';
import { preprocess, preprocessBatch } from '../src/preprocess.js';
import { resizePixels } from '../src/resample.js';
import { pilResizeReference } from './helpers/pil-reference.js';
import { picture, png } from './helpers/pixels.js';

/** Python's round() for the reference pipeline: ties to even. */
const pyRound = (x: number) => {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
};

/**
 * The seed's torchvision pipeline restated from its documentation: Resize(256) on a PIL image
 * (shorter side 256, longer int(256 * long / short)), CenterCrop(256) with
 * top = int(round((h - 256) / 2)), ToTensor (/255, CHW), Normalize(0.5, 0.5).
 */
function torchvisionSeed(rgb: Uint8Array, width: number, height: number): Float32Array {
  const [nw, nh] =
    width <= height
      ? [256, Math.floor((256 * height) / width)]
      : [Math.floor((256 * width) / height), 256];
  const resized = pilResizeReference(rgb, width, height, 3, nw, nh);
  const top = pyRound((nh - 256) / 2);
  const left = pyRound((nw - 256) / 2);
  const out = new Float32Array(3 * 256 * 256);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        const v = resized[((y + top) * nw + x + left) * 3 + c] / 255;
        out[c * 65536 + y * 256 + x] = (v - 0.5) / 0.5;
      }
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('torchvision geometry formulas', () => {
  it('Resize(256) keeps the aspect ratio and truncates the longer side', () => {
    expect(shorterSideSize(300, 200, 256)).toEqual({ width: 384, height: 256 });
    expect(shorterSideSize(200, 300, 256)).toEqual({ width: 256, height: 384 });
    expect(shorterSideSize(257, 1000, 256)).toEqual({ width: 256, height: 996 }); // 996.11
    expect(shorterSideSize(1000, 257, 256)).toEqual({ width: 996, height: 256 });
    expect(shorterSideSize(333, 256, 256)).toEqual({ width: 333, height: 256 });
    expect(shorterSideSize(100, 100, 256)).toEqual({ width: 256, height: 256 });
    expect(shorterSideSize(3, 7, 256)).toEqual({ width: 256, height: 597 }); // 597.33
  });

  it('CenterCrop rounds halves to even like Python', () => {
    expect(roundHalfEven(0.5)).toBe(0);
    expect(roundHalfEven(1.5)).toBe(2);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(64)).toBe(64);
    expect(centerCropOffsets(384, 256, 256, 256)).toEqual({ left: 64, top: 0 });
    expect(centerCropOffsets(256, 996, 256, 256)).toEqual({ left: 0, top: 370 });
    expect(centerCropOffsets(257, 256, 256, 256)).toEqual({ left: 0, top: 0 }); // round(0.5) = 0
    expect(centerCropOffsets(259, 256, 256, 256)).toEqual({ left: 2, top: 0 }); // round(1.5) = 2
    expect(centerCropOffsets(333, 261, 256, 256)).toEqual({ left: 38, top: 2 }); // 38.5, 2.5
  });

  it('computes the geometry of every resize mode', () => {
    expect(computeGeometry(300, 200, seedCard)).toEqual({
      mode: 'shorter-side-center-crop',
      original: { width: 300, height: 200 },
      resized: { width: 384, height: 256 },
      crop: { left: 64, top: 0, width: 256, height: 256 },
      padding: { left: 0, top: 0, right: 0, bottom: 0 },
      tensor: { width: 256, height: 256 },
    });
    const base = { name: 'm', version: '1', output: { activation: 'logits', classes: ['a'] } };
    const stretch = parseCard({ ...base, input: { size: [100, 50], resize: 'stretch' } });
    expect(computeGeometry(300, 200, stretch).resized).toEqual({ width: 50, height: 100 });
    const letterbox = parseCard({ ...base, input: { size: 100, resize: 'letterbox' } });
    expect(computeGeometry(300, 200, letterbox)).toMatchObject({
      resized: { width: 100, height: 67 },
      crop: { left: 0, top: 0, width: 100, height: 67 },
      padding: { left: 0, top: 16, right: 0, bottom: 17 },
    });
    expect(computeGeometry(200, 300, letterbox).padding).toEqual({
      left: 16,
      top: 0,
      right: 17,
      bottom: 0,
    });
  });
});

describe('Pillow-exact resize', () => {
  it('matches the reference resize within one 8-bit step, shrinking and enlarging', () => {
    const cases: [number, number, number, number, 'bilinear' | 'bicubic'][] = [
      [300, 200, 384, 256, 'bilinear'],
      [97, 61, 23, 15, 'bilinear'],
      [40, 30, 101, 77, 'bilinear'],
      [97, 61, 23, 15, 'bicubic'],
      [40, 30, 101, 77, 'bicubic'],
    ];
    for (const [w, h, ow, oh, kind] of cases) {
      const src = picture(w, h, 3, w * h);
      const ours = resizePixels({ width: w, height: h, channels: 3, data: src }, ow, oh, kind);
      const ref = pilResizeReference(src, w, h, 3, ow, oh, kind);
      expect(maxAbsDiff(ours.data, ref), `${w}x${h} -> ${ow}x${oh} ${kind}`).toBeLessThanOrEqual(1);
    }
  });

  it('computes a window identical to cropping the full resize', () => {
    const src = { width: 90, height: 70, channels: 3, data: picture(90, 70, 3) };
    const full = resizePixels(src, 45, 60, 'bilinear');
    const window = resizePixels(src, 45, 60, 'bilinear', {
      left: 7,
      top: 11,
      width: 20,
      height: 30,
    });
    for (let y = 0; y < 30; y++) {
      const a = full.data.subarray(((y + 11) * 45 + 7) * 3, ((y + 11) * 45 + 27) * 3);
      expect(Array.from(window.data.subarray(y * 60, y * 60 + 60))).toEqual(Array.from(a));
    }
  });

  it('picks Pillow nearest-neighbour source pixels', () => {
    const src = { width: 5, height: 1, channels: 1, data: new Uint8Array([10, 20, 30, 40, 50]) };
    // scale 5/3: centres 0.83, 2.5, 4.17 -> pixels 0, 2, 4
    expect(Array.from(resizePixels(src, 3, 1, 'nearest').data)).toEqual([10, 30, 50]);
  });
});

describe('preprocess with the seed card (torchvision parity)', () => {
  const sizes: [number, number][] = [
    [300, 200],
    [200, 300],
    [257, 1000],
    [256, 256],
    [333, 261],
    [120, 90],
  ];
  for (const [w, h] of sizes) {
    it(`reproduces Resize(256)+CenterCrop(256)+ToTensor+Normalize for ${w}x${h}`, async () => {
      const rgb = picture(w, h, 3, w + h);
      const { tensor, shape, geometry } = await preprocess(await png(rgb, w, h, 3), seedCard);
      expect(shape).toEqual([3, 256, 256]);
      expect(geometry.original).toEqual({ width: w, height: h });
      const ref = torchvisionSeed(rgb, w, h);
      // Tensor units are (v - 0.5) / 0.5, so half the difference is in ToTensor's [0, 1] units.
      const diff = maxAbsDiff(tensor, ref) * 0.5;
      expect(diff).toBeLessThanOrEqual(1 / 255 + 1e-6);
    });
  }

  it('treats a grey image like PIL convert("RGB"): three equal channels', async () => {
    const grey = picture(300, 200, 1, 7);
    const { tensor } = await preprocess(await png(grey, 300, 200, 1), seedCard);
    const rgb = new Uint8Array(300 * 200 * 3).map((_, i) => grey[Math.floor(i / 3)]);
    const diff = maxAbsDiff(tensor, torchvisionSeed(rgb, 300, 200)) * 0.5;
    expect(diff).toBeLessThanOrEqual(1 / 255 + 1e-6);
    expect(tensor.subarray(0, 65536)).toEqual(tensor.subarray(65536, 131072));
  });
});

describe('preprocess with other cards', () => {
  const base = { name: 'm', version: '1', output: { activation: 'logits', classes: ['a'] } };
  // 2x2 image: red, green / blue, white.
  const tiny = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);

  it('lays out NHWC, BGR and Caffe-style scale/mean', async () => {
    const card = parseCard({
      ...base,
      input: { size: 2, layout: 'NHWC', colorSpace: 'bgr', scale: 1, mean: [10, 20, 30] },
    });
    const { tensor, shape } = await preprocess(await png(tiny, 2, 2, 3), card);
    expect(shape).toEqual([2, 2, 3]);
    expect(Array.from(tensor)).toEqual([
      -10, -20, 225, -10, 235, -30, 245, -20, -30, 245, 235, 225,
    ]);
  });

  it('converts colour to PIL luma for grayscale cards, repeated over 3 channels if asked', async () => {
    const one = parseCard({ ...base, input: { size: 2, channels: 1, scale: 1 } });
    const { tensor, shape } = await preprocess(await png(tiny, 2, 2, 3), one);
    expect(shape).toEqual([1, 2, 2]);
    // L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16
    expect(Array.from(tensor)).toEqual([76, 150, 29, 255]);
    const three = parseCard({
      ...base,
      input: { size: 2, channels: 3, colorSpace: 'grayscale', scale: 1 },
    });
    const t3 = (await preprocess(await png(tiny, 2, 2, 3), three)).tensor;
    expect(Array.from(t3)).toEqual([76, 150, 29, 255, 76, 150, 29, 255, 76, 150, 29, 255]);
  });

  it('letterboxes with the pad value and records the bars', async () => {
    const card = parseCard({ ...base, input: { size: 4, resize: 'letterbox', scale: 1, pad: 7 } });
    const wide = new Uint8Array(4 * 2 * 3).fill(200);
    const { tensor, geometry } = await preprocess(await png(wide, 4, 2, 3), card);
    expect(geometry.padding).toEqual({ left: 0, top: 1, right: 0, bottom: 1 });
    const plane = Array.from(tensor.subarray(0, 16));
    expect(plane).toEqual([7, 7, 7, 7, 200, 200, 200, 200, 200, 200, 200, 200, 7, 7, 7, 7]);
  });

  it('stretches to the tensor size ignoring aspect ratio', async () => {
    const card = parseCard({ ...base, input: { size: [3, 5], resize: 'stretch', scale: 1 } });
    const rgb = picture(10, 4, 3);
    const { tensor, shape, geometry } = await preprocess(await png(rgb, 10, 4, 3), card);
    expect(shape).toEqual([3, 3, 5]);
    expect(geometry.crop).toEqual({ left: 0, top: 0, width: 5, height: 3 });
    const ref = pilResizeReference(rgb, 10, 4, 3, 5, 3);
    expect(tensor[0]).toBe(ref[0]);
    expect(tensor[15 + 4]).toBe(ref[4 * 3 + 1]);
  });

  it('accepts pixels that were already decoded', async () => {
    const decoded = await decodeImage(await png(picture(300, 200, 3), 300, 200, 3));
    const a = await preprocess(decoded, seedCard);
    const b = await preprocess(await png(picture(300, 200, 3), 300, 200, 3), seedCard);
    expect(a.tensor).toEqual(b.tensor);
  });
});

describe('preprocessBatch', () => {
  it('stacks images and keeps each geometry', async () => {
    const a = await png(picture(300, 200, 3, 1), 300, 200, 3);
    const b = await png(picture(200, 400, 1, 2), 200, 400, 1);
    const batch = await preprocessBatch([a, b], seedCard);
    expect(batch.shape).toEqual([2, 3, 256, 256]);
    expect(batch.geometries.map((g) => g.resized)).toEqual([
      { width: 384, height: 256 },
      { width: 256, height: 512 },
    ]);
    const one = await preprocess(b, seedCard);
    expect(batch.tensor.subarray(3 * 65536)).toEqual(one.tensor);
  });

  it('names the index of an image that cannot be decoded', async () => {
    const good = await png(picture(8, 8, 3), 8, 8, 3);
    await expect(preprocessBatch([good, new Uint8Array(0)], seedCard)).rejects.toThrow(
      /^image 1: empty input \(0 bytes\)$/,
    );
  });
});

describe('decoding for preprocessing', () => {
  it('applies EXIF orientation before resizing', async () => {
    const rgb = picture(30, 20, 3);
    const rotated = await sharp(rgb, { raw: { width: 30, height: 20, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 100 })
      .toBuffer();
    const image = await decodeImage(new Uint8Array(rotated));
    expect([image.width, image.height]).toEqual([20, 30]);
    const raw = await decodeImage(new Uint8Array(rotated), { autoOrient: false });
    expect([raw.width, raw.height]).toEqual([30, 20]);
  });
});
