import { describe, expect, it } from 'vitest';
import { camToOriginal, seenRegion } from '../src/cammap.js';
import { parseCard, seedCard } from '../src/card.js';
import { decodeImage } from '../src/decode.js';
import { renderExplanation } from '../src/explain.js';
import { computeGeometry, type Geometry, type Rect } from '../src/geometry.js';
import { overlayPixels } from '../src/overlay.js';
import type { Pixels } from '../src/resample.js';
import { camStats, statsRows } from '../src/stats.js';
import { picture } from './helpers/pixels.js';
import { expectSameStats } from './helpers/stats.js';

/** Resize(256) then CenterCrop(224), the usual ImageNet preprocessing: it cuts every side. */
const crop224 = parseCard({
  name: 'm',
  version: '1',
  input: { size: 224, resizeTo: 256 },
  output: { activation: 'sigmoid', classes: ['a'] },
});

const cam7 = (f: (x: number, y: number) => number) => ({
  width: 7,
  height: 7,
  data: Array.from({ length: 49 }, (_, i) => f(i % 7, Math.floor(i / 7))),
});

const inside = (r: Rect, x: number, y: number) =>
  x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height;

async function draw(image: Pixels, geometry: Geometry, cam: ReturnType<typeof cam7>) {
  const decoded = { ...image, format: 'png' as const, bitDepth: 8 };
  const out = await renderExplanation(decoded, geometry, cam);
  return { out, overlay: await decodeImage(out.overlay) };
}

describe('the model view: the margin a centre crop cut away', () => {
  const cam = cam7((x, y) => (x === 3 && y === 2 ? 4 : (x + y) % 3));

  for (const channels of [3, 1] as const) {
    it(`is drawn grey, not in jet's "no evidence" blue; the seen part is as before (${channels} channel)`, async () => {
      const image = { width: 320, height: 240, channels, data: picture(320, 240, channels) };
      const geometry = computeGeometry(320, 240, crop224);
      const view = seenRegion(geometry);
      // Resize to 341x256, crop 224 at (58, 16): every side of the original loses pixels.
      expect(view.left).toBeGreaterThan(0);
      expect(view.top).toBeGreaterThan(0);
      expect(view.left + view.width).toBeLessThan(320);
      expect(view.top + view.height).toBeLessThan(240);
      const { overlay } = await draw(image, geometry, cam);
      const before = overlayPixels(image, camToOriginal(cam, geometry));
      let margin = 0;
      let blueBefore = 0;
      for (let y = 0; y < 240; y++) {
        for (let x = 0; x < 320; x++) {
          const i = (y * 320 + x) * 3;
          const [r, g, b] = overlay.data.subarray(i, i + 3);
          if (inside(view, x, y)) {
            expect([r, g, b]).toEqual(Array.from(before.data.subarray(i, i + 3)));
          } else {
            margin++;
            expect(g).toBe(r);
            expect(b).toBe(r);
            // The old drawing put heat 0's colour there: jet's dark blue lifts blue over red.
            if (before.data[i + 2] > before.data[i]) blueBefore++;
          }
        }
      }
      expect(margin).toBe(320 * 240 - view.width * view.height);
      // On a grey image that is every margin pixel (a colour image has its own blues).
      if (channels === 1) expect(blueBefore).toBe(margin);
      else expect(blueBefore).toBeGreaterThan(0);
    });
  }

  it('dims the margin and hatches it: two greys per image value, the hatch the brighter', async () => {
    const image = {
      width: 320,
      height: 240,
      channels: 1,
      data: new Uint8Array(320 * 240).fill(200),
    };
    const geometry = computeGeometry(320, 240, crop224);
    const view = seenRegion(geometry);
    const { overlay } = await draw(image, geometry, cam);
    const greys = new Map<number, number>();
    for (let y = 0; y < 240; y++) {
      for (let x = 0; x < 320; x++) {
        if (inside(view, x, y)) continue;
        const v = overlay.data[(y * 320 + x) * 3];
        greys.set(v, (greys.get(v) ?? 0) + 1);
      }
    }
    const [dim, hatch] = [...greys.keys()].sort((a, b) => a - b);
    expect(greys.size).toBe(2);
    expect(dim).toBeLessThan(200); // dimmed
    expect(hatch).toBeGreaterThan(dim);
    expect(greys.get(dim)!).toBeGreaterThan(greys.get(hatch)!); // lines, not the background
  });

  it("marks the margin on a scaled-down overlay too, at that overlay's pixels", async () => {
    const image = { width: 320, height: 240, channels: 1, data: picture(320, 240, 1) };
    const geometry = computeGeometry(320, 240, crop224);
    const decoded = { ...image, format: 'png' as const, bitDepth: 8 };
    const out = await renderExplanation(decoded, geometry, cam, { overlayMaxSide: 160 });
    const overlay = await decodeImage(out.overlay);
    expect([overlay.width, overlay.height]).toEqual([160, 120]);
    const view = seenRegion({ ...geometry, original: { width: 160, height: 120 } });
    let greyInside = 0;
    for (let y = 0; y < 120; y++) {
      for (let x = 0; x < 160; x++) {
        const i = (y * 160 + x) * 3;
        const grey =
          overlay.data[i] === overlay.data[i + 1] && overlay.data[i] === overlay.data[i + 2];
        if (!inside(view, x, y)) expect(grey).toBe(true);
        else if (grey) greyInside++;
      }
    }
    expect(greyInside).toBe(0); // every seen pixel carries heat colour
  });

  it('changes nothing where nothing was cut: a square image under the seed card, a stretch, a letterbox', async () => {
    const card = (resize: 'stretch' | 'letterbox') =>
      parseCard({
        name: 'm',
        version: '1',
        input: { size: 224, resize },
        output: { activation: 'sigmoid', classes: ['a'] },
      });
    const cases = [
      { geometry: computeGeometry(300, 300, seedCard) },
      { geometry: computeGeometry(320, 240, card('stretch')) },
      { geometry: computeGeometry(320, 240, card('letterbox')) },
    ];
    for (const { geometry } of cases) {
      const { width, height } = geometry.original;
      expect(seenRegion(geometry)).toEqual({ left: 0, top: 0, width, height });
      const image = { width, height, channels: 3, data: picture(width, height, 3) };
      const { out, overlay } = await draw(image, geometry, cam);
      const heat = camToOriginal(cam, geometry);
      expect(overlay.data).toEqual(overlayPixels(image, heat).data);
      const { view, peakAtImageEdge, ...rest } = out.stats;
      expect(view).toEqual({ x: 0, y: 0, width: 1, height: 1 });
      expectSameStats(rest, await camStats(heat));
      expect(peakAtImageEdge).toBe(false); // this CAM peaks inside
    }
  });
});

describe('statistics on the model view', () => {
  it('a uniform CAM: the border band holds its area share of the energy (only pixels the model saw)', async () => {
    const geometry = computeGeometry(320, 240, crop224);
    const flat = cam7(() => 1);
    const { out } = await draw(
      { width: 320, height: 240, channels: 1, data: picture(320, 240, 1) },
      geometry,
      flat,
    );
    expect(out.stats.borderEnergy!).toBeCloseTo(out.stats.borderArea, 6);
    expect(out.stats.normalizedEntropy!).toBeCloseTo(1, 6);
    // On the original frame the band also held the margin, which carries no energy.
    const original = await camStats(camToOriginal(flat, geometry));
    expect(original.borderArea - original.borderEnergy!).toBeGreaterThan(0.1);
    const view = seenRegion(geometry);
    expect(out.stats.view).toEqual({
      x: view.left / 320,
      y: view.top / 240,
      width: view.width / 320,
      height: view.height / 240,
    });
  });

  // The rule: `peak` is on the model's view (0 = the first row/column the model saw), so a peak
  // there is at the view's edge; `peakAtImageEdge` says whether that edge is also the image's:
  // the peak is in the view's border band on a side the crop did not cut.
  it("a peak on the crop's first row: at the view's edge, at the image's edge only if nothing was cut there", async () => {
    const top = cam7((x, y) => (x === 3 && y === 0 ? 1 : 0));
    // Every side cut: the first row the model saw is 16 resized rows into the image.
    const cut = computeGeometry(320, 240, crop224);
    const { out } = await draw(
      { width: 320, height: 240, channels: 1, data: picture(320, 240, 1) },
      cut,
      top,
    );
    expect(out.stats.peak!.y).toBeLessThan(0.1);
    expect(out.stats.peakAtImageEdge).toBe(false);
    expect(out.stats.borderEnergy!).toBeGreaterThan(0.5);
    // The seed card on a landscape image cuts left and right only: the view's top is the image's.
    const seed = computeGeometry(300, 200, seedCard);
    const cam8 = (x0: number, y0: number) => ({
      width: 8,
      height: 8,
      data: Array.from({ length: 64 }, (_, i) =>
        i % 8 === x0 && Math.floor(i / 8) === y0 ? 1 : 0,
      ),
    });
    const grey = { width: 300, height: 200, channels: 1, data: picture(300, 200, 1) };
    const atTop = (
      await renderExplanation({ ...grey, format: 'png', bitDepth: 8 }, seed, cam8(4, 0))
    ).stats;
    expect(atTop.peak!.y).toBeLessThan(0.1);
    expect(atTop.peakAtImageEdge).toBe(true);
    // Its first column is 50 px into the image: a peak there is at the view's edge only.
    const atLeft = (
      await renderExplanation({ ...grey, format: 'png', bitDepth: 8 }, seed, cam8(0, 4))
    ).stats;
    expect(atLeft.peak!.x).toBeLessThan(0.1);
    expect(atLeft.peakAtImageEdge).toBe(false);
    const central = (
      await renderExplanation({ ...grey, format: 'png', bitDepth: 8 }, seed, cam8(4, 4))
    ).stats;
    expect(central.peakAtImageEdge).toBe(false);
  });

  it('row by row with a view and a mask: the same figures as camStats', async () => {
    const w = 90;
    const h = 70;
    const data = new Float32Array(w * h).map((_, i) => ((i * 7919) % 101) / 100);
    const heat = { width: w, height: h, data };
    const mask = new Uint8Array(w * h).map((_, i) => (i % w < 40 ? 1 : 0));
    const view = { left: 11, top: 5, width: 60, height: 52 };
    const options = { view, mask, border: 0.15 };
    const acc = await statsRows(heat, options);
    for (let y = 0; y < h; y++) acc.row(y, data.subarray(y * w, (y + 1) * w));
    const want = await camStats(heat, options);
    expectSameStats(acc.result(), want);
    // Only the view's pixels count: values outside it change nothing.
    const outside = Float32Array.from(data, (v, i) =>
      inside(view, i % w, Math.floor(i / w)) ? v : 5,
    );
    expect(await camStats({ ...heat, data: outside }, options)).toEqual(want);
    expect(want.maskArea).toBeCloseTo((29 * 52) / (60 * 52), 12);
    await expect(camStats(heat, { view: { ...view, width: 80 } })).rejects.toThrow(
      'view 80x52 at (11, 5) is not inside the 90x70 map',
    );
  });
});
