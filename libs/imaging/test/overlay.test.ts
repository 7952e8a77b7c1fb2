import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { camToOriginal, type Heatmap } from '../src/cammap.js';
import { seedCard } from '../src/card.js';
import { type COLORMAPS, colormapIndex, colormapLut } from '../src/colormap.js';
import { decodeImage } from '../src/decode.js';
import { computeGeometry } from '../src/geometry.js';
import {
  colorizeHeatmap,
  encodePixels,
  Grey16Rows,
  OverlayRows,
  overlayPixels,
  renderHeatmap16,
  renderOverlay,
} from '../src/overlay.js';
import type { Pixels } from '../src/resample.js';
import { noise, picture, png } from './helpers/pixels.js';

/** The seed's formula, per pixel and channel, as overlayPixels first computed it. */
function referenceOverlay(
  image: Pixels,
  heat: Heatmap,
  {
    colormap = 'jet',
    gamma = 2,
    alpha = 0.4,
  }: { colormap?: (typeof COLORMAPS)[number]; gamma?: number; alpha?: number },
): Uint8Array {
  const lut = colormapLut(colormap);
  const n = heat.width * heat.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = colormapIndex(Math.min(1, Math.max(0, heat.data[i])) ** gamma) * 3;
    for (let c = 0; c < 3; c++) {
      const base = image.data[i * image.channels + (image.channels === 1 ? 0 : c)];
      data[i * 3 + c] = Math.round((1 - alpha) * base + alpha * 255 * lut[k + c]);
    }
  }
  return data;
}

/** Heat values of every kind: random in [0, 1], a smooth ramp, out of range, NaN, -0. */
function mixedHeat(width: number, height: number, seed: number): Heatmap {
  const r = new Uint32Array(noise(width * height * 4, seed).buffer);
  const special = [0, -0, 1, -0.5, 1.5, Number.NaN, 1e-30, 0.5, 0.25, 0.0625];
  return heatOf(width, height, (i) =>
    i % 7 === 0
      ? special[(i / 7) % special.length]
      : i % 3 === 0
        ? (i % width) / width
        : r[i] / 2 ** 32,
  );
}

const heatOf = (width: number, height: number, f: (i: number) => number): Heatmap => ({
  width,
  height,
  data: Float32Array.from({ length: width * height }, (_, i) => f(i)),
});

/** An independent reader for the 16-bit grey PNGs we write (handles filters None and Up). */
function readGrey16(bytes: Uint8Array): { width: number; height: number; samples: number[] } {
  const buf = Buffer.from(bytes);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  expect([buf[24], buf[25]]).toEqual([16, 0]);
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    if (buf.toString('latin1', at + 4, at + 8) === 'IDAT')
      idat.push(buf.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const rows = inflateSync(Buffer.concat(idat));
  const stride = width * 2 + 1;
  const bytesOut = new Uint8Array(width * 2 * height);
  for (let y = 0; y < height; y++) {
    const filter = rows[y * stride];
    expect([0, 2]).toContain(filter);
    for (let i = 0; i < width * 2; i++) {
      const up = filter === 2 && y > 0 ? bytesOut[(y - 1) * width * 2 + i] : 0;
      bytesOut[y * width * 2 + i] = (rows[y * stride + 1 + i] + up) & 0xff;
    }
  }
  const samples = [];
  for (let i = 0; i < width * height; i++)
    samples.push((bytesOut[i * 2] << 8) | bytesOut[i * 2 + 1]);
  return { width, height, samples };
}

describe('overlayPixels (seed defaults: jet, gamma 2, alpha 0.4)', () => {
  const image = {
    width: 3,
    height: 1,
    channels: 3,
    data: new Uint8Array([100, 150, 200, 100, 150, 200, 100, 150, 200]),
  };

  it('blends (1 - alpha) * image + alpha * jet(heat ^ 2)', () => {
    const out = overlayPixels(
      image,
      heatOf(3, 1, (i) => [1, 0, 0.5][i]),
    );
    // heat 1 -> jet(1) = (0.5, 0, 0); heat 0 -> jet(0) = (0, 0, 0.5);
    // heat 0.5 -> 0.25 -> entry 64 = (0, 0.5019608, 1).
    expect(Array.from(out.data)).toEqual([
      Math.round(60 + 0.4 * 127.5),
      90,
      120,
      60,
      90,
      Math.round(120 + 0.4 * 127.5),
      60,
      Math.round(90 + 0.4 * 128),
      Math.round(120 + 0.4 * 255),
    ]);
  });

  it('honours alpha, gamma and colormap options', () => {
    const full = overlayPixels(
      image,
      heatOf(3, 1, () => 0.5),
      { alpha: 1, gamma: 1, colormap: 'gray' },
    );
    expect(Array.from(full.data.subarray(0, 3))).toEqual([128, 128, 128]); // entry 128 of gray
    const none = overlayPixels(
      image,
      heatOf(3, 1, () => 1),
      { alpha: 0 },
    );
    expect(none.data).toEqual(image.data);
    expect(() =>
      overlayPixels(
        image,
        heatOf(3, 1, () => 1),
        { alpha: 2 },
      ),
    ).toThrow(/alpha/);
  });

  it('repeats a grey image over RGB', () => {
    const grey = { width: 1, height: 1, channels: 1, data: new Uint8Array([200]) };
    const out = overlayPixels(
      grey,
      heatOf(1, 1, () => 0),
      { alpha: 0.5 },
    );
    expect(Array.from(out.data)).toEqual([100, 100, Math.round(100 + 0.5 * 127.5)]);
  });

  it('refuses a heatmap of another size, saying how to get the right one', () => {
    expect(() =>
      overlayPixels(
        image,
        heatOf(2, 2, () => 0),
      ),
    ).toThrow(/camToOriginal/);
  });

  it('colorizeHeatmap gives the colormap colour of heat ^ gamma', () => {
    const c = colorizeHeatmap(
      heatOf(2, 1, (i) => i),
      { gamma: 1 },
    );
    expect(Array.from(c.data)).toEqual([0, 0, 128, 128, 0, 0]);
  });
});

describe('overlayPixels equals the per-pixel formula (tables instead of pow and blends)', () => {
  const cases = [
    {},
    { gamma: 1 },
    { gamma: 0.5, colormap: 'viridis' as const },
    { gamma: 3, colormap: 'turbo' as const, alpha: 0.25 },
    { gamma: 1.7, colormap: 'inferno' as const, alpha: 1 },
    { gamma: 0, colormap: 'gray' as const },
    { gamma: -1, alpha: 0 },
    { alpha: 0.55 },
  ];
  for (const channels of [1, 3, 4] as const) {
    for (const options of cases) {
      it(`${channels} channel(s), ${JSON.stringify(options)}`, () => {
        const [w, h] = [97, 61];
        const image = { width: w, height: h, channels, data: noise(w * h * channels, channels) };
        const heat = mixedHeat(w, h, 3 + channels);
        const got = Buffer.from(overlayPixels(image, heat, options).data);
        expect(got.equals(Buffer.from(referenceOverlay(image, heat, options)))).toBe(true);
      });
    }
  }

  it('colorizeHeatmap is the colour alone, for any gamma', () => {
    const heat = mixedHeat(50, 20, 9);
    for (const gamma of [2, 1, 0.5, -1]) {
      const lut = colormapLut('turbo');
      const want = new Uint8Array(3000);
      for (let i = 0; i < 1000; i++) {
        const k = colormapIndex(Math.min(1, Math.max(0, heat.data[i])) ** gamma) * 3;
        for (let c = 0; c < 3; c++) want[i * 3 + c] = Math.round(lut[k + c] * 255);
      }
      expect(Array.from(colorizeHeatmap(heat, { gamma, colormap: 'turbo' }).data)).toEqual(
        Array.from(want),
      );
    }
  });
});

describe('renderOverlay', () => {
  it('draws at the source resolution: a 300x200 input gives a 300x200 overlay', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const cam = { width: 8, height: 8, data: Float32Array.from({ length: 64 }, (_, i) => i) };
    const heat = camToOriginal(cam, computeGeometry(300, 200, seedCard));
    const out = await renderOverlay(bytes, heat);
    const decoded = await decodeImage(out);
    expect(decoded).toMatchObject({ format: 'png', width: 300, height: 200, channels: 3 });
    // The PNG holds exactly the blended pixels.
    const expected = overlayPixels(await decodeImage(bytes), heat);
    expect(decoded.data).toEqual(expected.data);
  });

  it('encodes JPEG and WebP too', async () => {
    const pixels = { width: 40, height: 30, channels: 3, data: picture(40, 30, 3) };
    const heat = heatOf(40, 30, (i) => (i % 40) / 40);
    const jpeg = await renderOverlay(pixels, heat, { format: 'jpeg', quality: 80 });
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    const webp = await renderOverlay(pixels, heat, { format: 'webp' });
    const meta = await sharp(webp).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 40, 30]);
  });

  it('encodes grey pixels as a grey PNG', async () => {
    const out = await encodePixels({
      width: 2,
      height: 1,
      channels: 1,
      data: new Uint8Array([3, 250]),
    });
    const decoded = await decodeImage(out);
    expect(decoded.channels).toBe(1);
    expect(Array.from(decoded.data)).toEqual([3, 250]);
  });
});

describe('renderHeatmap16', () => {
  it('writes round(heat * 65535) as 16-bit grey, clamped to [0, 1]', async () => {
    const values = [0, 1, 0.5, 1 / 65535, 2, -1, Number.NaN, 0.25];
    const heat = heatOf(4, 2, (i) => values[i]);
    const bytes = renderHeatmap16(heat);
    const { width, height, samples } = readGrey16(bytes);
    expect([width, height]).toEqual([4, 2]);
    expect(samples).toEqual([0, 65535, 32768, 1, 65535, 0, 0, 16384]);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.space, meta.depth, meta.channels]).toEqual([
      'png',
      'grey16',
      'ushort',
      1,
    ]);
  });

  it('rounds every float32 sample like Math.round (it computes (v * 65535 + 0.5) | 0)', () => {
    const heat = mixedHeat(256, 64, 11);
    // Plus values whose samples sit at x.5 exactly, and their float32 neighbours.
    for (let i = 0; i < 64; i++) {
      const half = Math.fround((i * 1000 + 0.5) / 65535);
      heat.data[i * 4] = half;
      heat.data[i * 4 + 1] = Math.fround(half * (1 + 2 ** -23));
      heat.data[i * 4 + 2] = Math.fround(half * (1 - 2 ** -24));
    }
    const { samples } = readGrey16(renderHeatmap16(heat));
    const want = Array.from(heat.data, (v) => (v > 0 ? Math.round(Math.min(1, v) * 65535) : 0));
    expect(samples).toEqual(want);
  });

  it('Grey16Rows compresses on the thread pool to the same bytes, at any level', async () => {
    const heat = mixedHeat(120, 80, 5);
    const rows = new Grey16Rows(120, 80);
    for (let y = 0; y < 80; y++) rows.row(y, heat.data.subarray(y * 120, (y + 1) * 120));
    for (const level of [0, 1, 6, 9]) {
      const sync = renderHeatmap16(heat, { compressionLevel: level });
      expect(Buffer.from(await rows.png(level)).equals(Buffer.from(sync))).toBe(true);
      expect(readGrey16(sync).samples.length).toBe(9600);
    }
    expect(() => rows.pngSync(-1)).toThrow(/compressionLevel/);
  });

  it('rows with spans (heat 0 outside them) give the same overlay and PNG as whole rows', async () => {
    const [w, h] = [50, 40];
    // Spans that grow, shrink, jump and vanish from row to row.
    const span = (y: number): [number, number] =>
      y < 5 || (y > 20 && y < 24) ? [0, 0] : y < 15 ? [y, 30 + y] : [(y * 7) % 20, 50 - (y % 5)];
    const heat = mixedHeat(w, h, 8);
    for (let y = 0; y < h; y++) {
      const [from, to] = span(y);
      for (let x = 0; x < w; x++) if (x < from || x >= to) heat.data[y * w + x] = 0;
    }
    const image = { width: w, height: h, channels: 3, data: noise(w * h * 3, 2) };
    for (const gamma of [2, 0.7, -1]) {
      const spanned = new Grey16Rows(w, h);
      const blended = new OverlayRows(image, { gamma });
      for (let y = 0; y < h; y++) {
        const row = heat.data.subarray(y * w, (y + 1) * w);
        spanned.row(y, row, ...span(y));
        blended.row(y, row, ...span(y));
      }
      expect(Buffer.from(spanned.pngSync()).equals(Buffer.from(renderHeatmap16(heat)))).toBe(true);
      const whole = overlayPixels(image, heat, { gamma });
      expect(Buffer.from(blended.pixels.data).equals(Buffer.from(whole.data))).toBe(true);
    }
  });

  it('blends a grey image as whole RGBA pixels (rgba: true) with the same colours', async () => {
    const [w, h] = [50, 40];
    const heat = mixedHeat(w, h, 8);
    const image = { width: w, height: h, channels: 1, data: noise(w * h, 3) };
    for (const options of [{}, { gamma: 0.7, colormap: 'viridis' as const, alpha: 0.7 }]) {
      const fast = new OverlayRows(image, { ...options, rgba: true });
      for (let y = 0; y < h; y++) fast.row(y, heat.data.subarray(y * w, (y + 1) * w));
      expect(fast.pixels.channels).toBe(4);
      const rgb = overlayPixels(image, heat, options);
      const dropped = fast.pixels.data.filter((_, i) => i % 4 !== 3);
      expect(Buffer.from(dropped).equals(Buffer.from(rgb.data))).toBe(true);
      expect(fast.pixels.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
      const png = await decodeImage(await encodePixels(fast.pixels));
      expect([png.channels, png.width]).toEqual([3, w]);
      expect(Buffer.from(png.data).equals(Buffer.from(rgb.data))).toBe(true);
    }
  });

  it('keeps a source-resolution map exactly (300x200)', () => {
    const heat = heatOf(300, 200, (i) => ((i * 7919) % 10007) / 10007);
    const { samples } = readGrey16(renderHeatmap16(heat));
    expect(samples.length).toBe(60000);
    for (const i of [0, 1, 299, 300, 12345, 59999])
      expect(samples[i]).toBe(Math.round(heat.data[i] * 65535));
  });
});
