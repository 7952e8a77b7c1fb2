import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeGreyPng,
  encodeSamplePngs,
  labelsCsv,
  synthesize,
  synthesizeSample,
  writeSynthDataset,
} from '../../src/synth/index.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function decodeGrey(png: Buffer) {
  // sharp hands grey PNGs back as sRGB unless asked for the one channel.
  const { data, info } = await sharp(png)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), info };
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('synth PNG and CSV output', () => {
  it('encodes image, lesion mask and marker mask as lossless single-channel PNGs', async () => {
    const s = synthesizeSample({ count: 1, seed: 3, shortcut: 1, positiveRate: 1 }, 0);
    expect(s.hasMarker).toBe(true);
    const pngs = await encodeSamplePngs(s);
    expect(pngs.lungs).toBeUndefined();
    const pairs: [Buffer, Uint8Array][] = [
      [pngs.image, s.image],
      [pngs.mask, s.lesionMask],
      [pngs.marker, s.markerMask],
    ];
    for (const [png, pixels] of pairs) {
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      // IHDR: bit depth 8, colour type 0 (greyscale).
      expect(png.toString('latin1', 12, 16)).toBe('IHDR');
      expect(png[24]).toBe(8);
      expect(png[25]).toBe(0);
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.channels).toBe(1);
      expect(meta.width).toBe(256);
      expect(meta.height).toBe(256);
      const { data } = await decodeGrey(png);
      expect(Buffer.from(data).equals(Buffer.from(pixels))).toBe(true);
    }
    const withLungs = await encodeSamplePngs(s, { lungs: true });
    const { data } = await decodeGrey(withLungs.lungs!);
    expect(Buffer.from(data).equals(Buffer.from(s.lungMask))).toBe(true);
  });

  it('rejects pixel arrays of the wrong length', async () => {
    await expect(encodeGreyPng(new Uint8Array(10), 4)).rejects.toThrow(RangeError);
  });

  it('writes labels.csv as file,label,marker', () => {
    const csv = labelsCsv([
      { name: 'img_00000', label: 1, hasMarker: true },
      { name: 'img_00001', label: 0, hasMarker: false },
      { name: 'img_00002', label: 0, hasMarker: true },
    ]);
    expect(csv).toBe(
      'file,label,marker\nimg_00000.png,1,1\nimg_00001.png,0,0\nimg_00002.png,0,1\n',
    );
    expect(labelsCsv([])).toBe('file,label,marker\n');
  });

  it('writes a whole data set, identical on a second run', async () => {
    const opts = { count: 12, seed: 77, shortcut: 0.9, size: 128 };
    const a = await mkdtemp(join(tmpdir(), 'camflow-synth-'));
    const b = await mkdtemp(join(tmpdir(), 'camflow-synth-'));
    dirs.push(a, b);
    const seen: string[] = [];
    const result = await writeSynthDataset({ ...opts, out: a, onSample: (s) => seen.push(s.name) });
    await writeSynthDataset({ ...opts, out: b });

    const samples = [...synthesize(opts)];
    expect(seen).toEqual(samples.map((s) => s.name));
    expect(result.count).toBe(12);
    expect(result.positives).toBe(samples.filter((s) => s.label === 1).length);
    expect(result.markers).toBe(samples.filter((s) => s.hasMarker).length);
    expect(result.markersOnPositives + result.markersOnNegatives).toBe(result.markers);

    expect((await readdir(a)).sort()).toEqual(['images', 'labels.csv', 'markers', 'masks']);
    const csv = await readFile(join(a, 'labels.csv'), 'utf8');
    expect(csv).toBe(labelsCsv(samples));
    for (const sub of ['images', 'masks', 'markers']) {
      const files = (await readdir(join(a, sub))).sort();
      expect(files).toEqual(samples.map((s) => `${s.name}.png`));
      for (const f of files) {
        const x = await readFile(join(a, sub, f));
        const y = await readFile(join(b, sub, f));
        expect(x.equals(y)).toBe(true);
      }
    }
    const { data, info } = await decodeGrey(await readFile(join(a, 'masks', 'img_00004.png')));
    expect(info.width).toBe(128);
    expect(Buffer.from(data).equals(Buffer.from(samples[4].lesionMask))).toBe(true);
  });

  it('writes the lung masks only when asked', async () => {
    const out = await mkdtemp(join(tmpdir(), 'camflow-synth-'));
    dirs.push(out);
    await writeSynthDataset({ count: 2, seed: 1, size: 64, out, lungs: true });
    expect((await readdir(join(out, 'lungs'))).sort()).toEqual(['img_00000.png', 'img_00001.png']);
  });
});

describe('synth option checks', () => {
  it('rejects bad options at the call, before generating anything', () => {
    const bad = [
      { count: -1, seed: 1 },
      { count: 1.5, seed: 1 },
      { count: 1, seed: 1.5 },
      { count: 1, seed: Number.NaN },
      { count: 1, seed: 1, size: 32 },
      { count: 1, seed: 1, size: 100.5 },
      { count: 1, seed: 1, shortcut: 1.1 },
      { count: 1, seed: 1, shortcut: -0.1 },
      { count: 1, seed: 1, positiveRate: 2 },
      { count: 1, seed: 1, markerRate: Number.NaN },
      { count: 1, seed: 1, lesionStrength: 0 },
    ];
    for (const opts of bad)
      expect(() => synthesize(opts), JSON.stringify(opts)).toThrow(RangeError);
    expect(() => synthesizeSample({ count: 1, seed: 1 }, -1)).toThrow(RangeError);
  });

  it('generates nothing for count 0 and pads names to the count', () => {
    expect([...synthesize({ count: 0, seed: 1 })]).toEqual([]);
    const s = synthesizeSample({ count: 123456, seed: 1, size: 64 }, 7);
    expect(s.name).toBe('img_000007');
  });

  it('accepts any safe integer seed, negative and beyond 32 bits', () => {
    const a = synthesizeSample({ count: 1, seed: -5, size: 64 }, 0);
    const b = synthesizeSample({ count: 1, seed: 2 ** 40 + 3, size: 64 }, 0);
    const c = synthesizeSample({ count: 1, seed: 3, size: 64 }, 0);
    expect(Buffer.from(b.image).equals(Buffer.from(c.image))).toBe(false);
    expect(Buffer.from(a.image).equals(Buffer.from(c.image))).toBe(false);
  });
});
