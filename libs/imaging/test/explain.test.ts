import { describe, expect, it } from 'vitest';
import { camToOriginal, camToTensor } from '../src/cammap.js';
import { seedCard } from '../src/card.js';
import { decodeImage } from '../src/decode.js';
import { renderExplanation, renderTensorOverlay } from '../src/explain.js';
import { overlayPixels } from '../src/overlay.js';
import { preprocess, tensorPixels } from '../src/preprocess.js';
import { camStats } from '../src/stats.js';
import { picture, png } from './helpers/pixels.js';

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
    expect(overlay.data).toEqual(overlayPixels(await decodeImage(bytes), heat).data);
    const heatmap = await decodeImage(out.heatmap);
    expect([heatmap.width, heatmap.height, heatmap.bitDepth]).toEqual([300, 200, 16]);
    expect(out.stats).toEqual(await camStats(heat));
    expect(out.stats.peak!.x).toBeGreaterThan(0.6); // cell 22 = column 6, row 2
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
