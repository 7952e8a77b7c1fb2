import { describe, expect, it } from 'vitest';
import {
  BAND_TEXTS,
  ELECTRODE_MAX_LUNG_SHARE,
  type SynthOptions,
  type SynthSample,
  synthesize,
  synthesizeSample,
} from '../../src/synth/index.js';
import { bbox, count, isBinary, meanWhere, sha256 } from './helpers.js';

const SIZE = 128;

/** Every image carries the artifact (base rate 1), both classes, 3 classes for the heart mask. */
function withArtifact(artifact: 'band' | 'electrode', n: number, seed: number): SynthSample[] {
  return [...synthesize({ count: n, seed, size: SIZE, artifact, markerRate: 1, classes: 3 })];
}

/** The artifact's box (info) is the mask's bounding box, and the flag, mask and info agree. */
function expectMaskMatchesInfo(s: SynthSample): void {
  expect(s.hasMarker).toBe(true);
  expect(isBinary(s.markerMask)).toBe(true);
  const a = s.artifact;
  if (!a) throw new Error('no artifact info');
  const b = bbox(s.markerMask, s.size);
  if (!b) throw new Error('empty artifact mask');
  expect({ x: b.x0, y: b.y0, width: b.x1 - b.x0 + 1, height: b.y1 - b.y0 + 1 }).toEqual({
    x: a.x,
    y: a.y,
    width: a.width,
    height: a.height,
  });
}

/** Pixels outside the artifact mask are those of the same image without the artifact. */
function expectOnlyMaskChanged(opts: SynthOptions, n: number): void {
  for (let i = 0; i < n; i++) {
    const clean = synthesizeSample({ ...opts, markerRate: 0, shortcut: 0 }, i);
    const s = synthesizeSample(opts, i);
    let outside = 0;
    let inside = 0;
    for (let k = 0; k < s.image.length; k++) {
      if (s.image[k] === clean.image[k]) continue;
      if (s.markerMask[k]) inside++;
      else outside++;
    }
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(0);
    expect(sha256(s.lesionMask)).toBe(sha256(clean.lesionMask));
  }
}

describe('synth band artifact', () => {
  const samples = withArtifact('band', 40, 21);

  it('draws a text band on every image asked for, with its mask and box', () => {
    for (const s of samples) {
      expectMaskMatchesInfo(s);
      const a = s.artifact;
      if (a?.kind !== 'band') throw new Error(`expected a band, got ${a?.kind}`);
      expect(BAND_TEXTS).toContain(a.text);
      expect(s.marker).toBeNull();
    }
  });

  it('sits at the bottom or top centre, never on the lungs, mostly at the bottom', () => {
    let bottom = 0;
    for (const s of samples) {
      const a = s.artifact;
      if (a?.kind !== 'band') throw new Error('expected a band');
      for (let k = 0; k < s.markerMask.length; k++) {
        if (s.markerMask[k]) expect(s.lungMask[k]).toBe(0);
      }
      const centre = a.x + a.width / 2;
      expect(Math.abs(centre - SIZE / 2)).toBeLessThanOrEqual(0.06 * SIZE + 2);
      if (a.place === 'bottom') {
        bottom++;
        expect(a.y + a.height).toBeGreaterThanOrEqual(SIZE * (1 - 0.06) - 1);
      } else {
        expect(a.y).toBeLessThanOrEqual(0.06 * SIZE + 1);
      }
      // Wider than tall: a line of text, 20-50% of the film wide.
      expect(a.width).toBeGreaterThan(0.2 * SIZE);
      expect(a.width).toBeLessThan(0.55 * SIZE);
      expect(a.height).toBeLessThan(a.width / 4);
    }
    expect(bottom).toBeGreaterThan(samples.length / 2);
    expect(bottom).toBeLessThan(samples.length);
  });

  it('draws bright glyphs: the brightest pixels of the box are near white (256 px)', () => {
    // At 128 px a glyph cell is about one pixel, so strokes only partly cover theirs.
    for (const s of synthesize({ count: 8, seed: 23, artifact: 'band', markerRate: 1 })) {
      const inBox: number[] = [];
      for (let k = 0; k < s.image.length; k++) if (s.markerMask[k]) inBox.push(s.image[k]);
      inBox.sort((p, q) => q - p);
      const top = inBox.slice(0, Math.ceil(inBox.length * 0.1));
      expect(top.reduce((t, v) => t + v, 0) / top.length).toBeGreaterThan(200);
    }
  });

  it('changes no pixel outside its mask', () => {
    expectOnlyMaskChanged({ count: 6, seed: 22, size: SIZE, artifact: 'band', markerRate: 1 }, 6);
  });
});

describe('synth electrode artifact', () => {
  const samples = withArtifact('electrode', 40, 31);

  it('draws an electrode on every image asked for, with its mask and box', () => {
    for (const s of samples) {
      expectMaskMatchesInfo(s);
      const a = s.artifact;
      if (a?.kind !== 'electrode') throw new Error(`expected an electrode, got ${a?.kind}`);
      // 6-9% of the width across.
      expect(2 * a.radius).toBeGreaterThanOrEqual(0.06 * SIZE - 0.2);
      expect(2 * a.radius).toBeLessThanOrEqual(0.09 * SIZE + 0.2);
    }
  });

  it('lies on the upper chest inside the body, off the heart and the opacities, mostly off the lungs', () => {
    for (const s of samples) {
      const a = s.artifact;
      if (a?.kind !== 'electrode' || !s.heartMask) throw new Error('expected an electrode');
      expect(a.cy).toBeLessThan(0.45 * SIZE);
      expect(a.cy).toBeGreaterThan(0.1 * SIZE);
      expect(Math.abs(a.cx - SIZE / 2)).toBeLessThan(0.25 * SIZE);
      expect(a.lungShare).toBeLessThanOrEqual(ELECTRODE_MAX_LUNG_SHARE);
      for (let k = 0; k < s.markerMask.length; k++) {
        if (!s.markerMask[k]) continue;
        expect(s.heartMask[k]).toBe(0);
        expect(s.lesionMask[k]).toBe(0);
      }
      // Inside the body: the disc's surroundings are soft tissue, not the dark background.
      const ring = (k: number) => {
        const d = Math.hypot((k % SIZE) - a.cx, Math.floor(k / SIZE) - a.cy);
        return d > a.radius + 1 && d < a.radius + 3 && !s.markerMask[k];
      };
      expect(meanWhere(s.image, ring)).toBeGreaterThan(60);
    }
  });

  it('has a bright metal snap at its centre', () => {
    for (const s of samples) {
      const a = s.artifact;
      if (a?.kind !== 'electrode') throw new Error('expected an electrode');
      const k = Math.round(a.cy) * SIZE + Math.round(a.cx);
      expect(s.image[k]).toBeGreaterThan(200);
    }
  });

  it('changes no pixel outside its mask', () => {
    expectOnlyMaskChanged(
      { count: 6, seed: 32, size: SIZE, artifact: 'electrode', markerRate: 1 },
      6,
    );
  });
});

describe('synth artifact determinism', () => {
  it('produces the pinned pixels for seed 1 (a change here changes the band and electrode sets)', () => {
    // If an artifact is changed on purpose, update these hashes and retrain xray-band and xray3-*.
    const band = synthesizeSample({ count: 1, seed: 1, shortcut: 1, artifact: 'band' }, 0);
    const electrode = synthesizeSample(
      { count: 1, seed: 1, shortcut: 1, artifact: 'electrode', classes: 3, shortcutClass: 2 },
      0,
    );
    expect([band.label, band.hasMarker, electrode.label, electrode.hasMarker]).toEqual(
      PINNED.flags,
    );
    expect(sha256(band.image)).toBe(PINNED.band);
    expect(sha256(band.markerMask)).toBe(PINNED.bandMask);
    expect(sha256(electrode.image)).toBe(PINNED.electrode);
    expect(sha256(electrode.markerMask)).toBe(PINNED.electrodeMask);
  });

  it('keeps the corner marker as the default artifact', () => {
    const a = synthesizeSample({ count: 1, seed: 4, shortcut: 1, positiveRate: 1 }, 0);
    const b = synthesizeSample(
      { count: 1, seed: 4, shortcut: 1, positiveRate: 1, artifact: 'marker' },
      0,
    );
    expect(sha256(b.image)).toBe(sha256(a.image));
    expect(a.artifact?.kind).toBe('marker');
    expect(a.marker).not.toBeNull();
    expect(count(a.markerMask)).toBeGreaterThan(0);
  });

  it('rejects an unknown artifact', () => {
    expect(() =>
      synthesizeSample({ count: 1, seed: 1, artifact: 'ruler' as unknown as 'band' }, 0),
    ).toThrow(RangeError);
  });
});

const PINNED = {
  flags: [1, true, 2, true],
  band: 'bf15c8bf7000833636977903deeba26bc505734957229fc9adbf519c42e3a560',
  bandMask: 'ff7ee8af6b7a0e14b892a39193ad9a8b241fcd8f00598719e474716835655255',
  electrode: '1ad19226a52530f1eb86ba711521d0805b184f77c7e8f2f0e2e0626c885e7dd8',
  electrodeMask: '4af5ed3da68ca04a3f1db8068538a1814c35af36bf89df55ef97f40f47b3a8ff',
};
