import { describe, expect, it } from 'vitest';
import { camToOriginal, camToTensor, seenRegion } from '../src/cammap.js';
import { parseCard, seedCard } from '../src/card.js';
import { decodeImage } from '../src/decode.js';
import { fitWithin, renderExplanation, renderTensorOverlay } from '../src/explain.js';
import { computeGeometry } from '../src/geometry.js';
import { overlayPixels, renderHeatmap16 } from '../src/overlay.js';
import { preprocess, tensorPixels } from '../src/preprocess.js';
import { camStats } from '../src/stats.js';
import { picture, png } from './helpers/pixels.js';
import { expectSameStats } from './helpers/stats.js';

const cam = {
  width: 8,
  height: 8,
  data: Array.from({ length: 64 }, (_, i) => (i === 22 ? 4 : i % 3)),
};

describe('renderExplanation', () => {
  it('gives a 300x200 overlay, heatmap and stats for a 300x200 input', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const { geometry } = await preprocess(bytes, seedCard);
    const out = await renderExplanation(bytes, geometry, cam);
    expect([out.width, out.height]).toEqual([300, 200]);
    const overlay = await decodeImage(out.overlay);
    expect([overlay.width, overlay.height, overlay.channels]).toEqual([300, 200, 3]);
    const heat = camToOriginal(cam, geometry);
    // The seed's crop of a 300x200 image keeps the middle 200x200: the model's view.
    const view = seenRegion(geometry);
    expect(view).toEqual({ left: 50, top: 0, width: 200, height: 200 });
    expect(overlay.data).toEqual(overlayPixels(await decodeImage(bytes), heat, { view }).data);
    const heatmap = await decodeImage(out.heatmap);
    expect([heatmap.width, heatmap.height, heatmap.bitDepth]).toEqual([300, 200, 16]);
    expect(Buffer.from(out.heatmap).equals(Buffer.from(renderHeatmap16(heat)))).toBe(true);
    expectSameStats(out.stats, await camStats(heat, { view }));
    expect(out.stats.peak!.x).toBeGreaterThan(0.6); // cell 22 = column 6, row 2
  });

  it('exact: true gives camStats bit for bit, and the same overlay and heatmap', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const { geometry } = await preprocess(bytes, seedCard);
    const exact = await renderExplanation(bytes, geometry, cam, { exact: true });
    const streamed = await renderExplanation(bytes, geometry, cam);
    const view = seenRegion(geometry);
    expect(exact.stats).toEqual(await camStats(camToOriginal(cam, geometry), { view }));
    expect(Buffer.from(exact.overlay).equals(Buffer.from(streamed.overlay))).toBe(true);
    expect(Buffer.from(exact.heatmap).equals(Buffer.from(streamed.heatmap))).toBe(true);
  });

  it('streams the same outputs as the whole-map functions for other geometries and options', async () => {
    const letterbox = parseCard({
      name: 'm',
      version: '1',
      input: { size: [64, 96], resize: 'letterbox', channels: 1 },
      output: { activation: 'sigmoid', classes: ['a'] },
    });
    const mask = new Uint8Array(257 * 190).map((_, i) => (i % 257 < 120 ? 1 : 0));
    const cases = [
      { geometry: computeGeometry(257, 190, letterbox), channels: 1 as const, options: {} },
      {
        geometry: computeGeometry(257, 190, seedCard),
        channels: 3 as const,
        options: { mask, border: 0.2, gamma: 1.5, colormap: 'viridis' as const, alpha: 0.7 },
      },
      {
        geometry: computeGeometry(257, 190, seedCard),
        channels: 1 as const,
        options: { interpolation: 'bilinear' as const, gamma: 1, mask },
      },
    ];
    for (const { geometry, channels, options } of cases) {
      const image = { width: 257, height: 190, channels, data: picture(257, 190, channels) };
      const pixels = { ...image, format: 'png' as const, bitDepth: 8 };
      const out = await renderExplanation(pixels, geometry, cam, options);
      const heat = camToOriginal(cam, geometry, options);
      const view = seenRegion(geometry);
      expect((await decodeImage(out.overlay)).data).toEqual(
        overlayPixels(image, heat, { ...options, view }).data,
      );
      expect(Buffer.from(out.heatmap).equals(Buffer.from(renderHeatmap16(heat)))).toBe(true);
      expectSameStats(out.stats, await camStats(heat, { ...options, view }));
    }
  });

  it('writes JPEG overlays and honours the PNG compression level', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const { geometry } = await preprocess(bytes, seedCard);
    const jpeg = await renderExplanation(bytes, geometry, cam, { format: 'jpeg' });
    expect((await decodeImage(jpeg.overlay)).format).toBe('jpeg');
    const stored = await renderExplanation(bytes, geometry, cam, { compressionLevel: 0 });
    const deflated = await renderExplanation(bytes, geometry, cam, { compressionLevel: 9 });
    expect(stored.overlay.length).toBeGreaterThan(deflated.overlay.length);
    expect(stored.heatmap.length).toBeGreaterThan(deflated.heatmap.length);
    expect((await decodeImage(stored.overlay)).data).toEqual(
      (await decodeImage(deflated.overlay)).data,
    );
    await expect(renderExplanation(bytes, geometry, cam, { compressionLevel: 10 })).rejects.toThrow(
      /compressionLevel/,
    );
  });

  it('draws the overlay and the heatmap smaller when capped; the statistics stay at source resolution', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const { geometry } = await preprocess(bytes, seedCard);
    const full = await renderExplanation(bytes, geometry, cam);
    const capped = await renderExplanation(bytes, geometry, cam, {
      overlayMaxSide: 150,
      heatmapMaxSide: 60,
    });
    expect(capped.overlaySize).toEqual({ width: 150, height: 100 });
    expect(capped.heatmapSize).toEqual({ width: 60, height: 40 });
    expect([capped.width, capped.height]).toEqual([300, 200]);
    expect(capped.stats).toEqual(full.stats);
    const overlay = await decodeImage(capped.overlay);
    expect([overlay.width, overlay.height]).toEqual([150, 100]);
    // The smaller heatmap is the same field sampled at the smaller image's pixel centres.
    const small = { ...geometry, original: { width: 60, height: 40 } };
    expect(
      Buffer.from(capped.heatmap).equals(Buffer.from(renderHeatmap16(camToOriginal(cam, small)))),
    ).toBe(true);
    // A cap at or above the image's size changes nothing.
    const same = await renderExplanation(bytes, geometry, cam, {
      overlayMaxSide: 300,
      heatmapMaxSide: 4000,
    });
    expect(Buffer.from(same.overlay).equals(Buffer.from(full.overlay))).toBe(true);
    expect(Buffer.from(same.heatmap).equals(Buffer.from(full.heatmap))).toBe(true);
    expect(fitWithin({ width: 2048, height: 2500 }, 1024)).toEqual({ width: 839, height: 1024 });
    expect(() => fitWithin({ width: 10, height: 10 }, 0)).toThrow(RangeError);
  });

  it('refuses a geometry made for another image', async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const { geometry } = await preprocess(await png(picture(20, 20, 3), 20, 20, 3), seedCard);
    await expect(renderExplanation(bytes, geometry, cam)).rejects.toThrow(
      'geometry is for a 20x20 image but this one is 300x200',
    );
  });
});

describe('renderTensorOverlay', () => {
  it("draws the seed's 256x256 picture on the crop the model saw", async () => {
    const bytes = await png(picture(300, 200, 3), 300, 200, 3);
    const out = await decodeImage(await renderTensorOverlay(bytes, seedCard, cam));
    expect([out.width, out.height]).toEqual([256, 256]);
    const crop = await tensorPixels(bytes, seedCard);
    expect(out.data).toEqual(overlayPixels(crop, camToTensor(cam, crop)).data);
  });
});
