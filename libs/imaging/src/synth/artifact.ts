/**
 * The shortcut artifacts a phantom can carry: the corner marker, a burned-in text band or an ECG
 * electrode. Each is drawn in place and comes with its mask (written to `markers/`).
 */
import type { Anatomy } from './anatomy.js';
import { type BandInfo, drawBand } from './band.js';
import { drawElectrode, type ElectrodeInfo } from './electrode.js';
import { drawMarker, type MarkerInfo } from './marker.js';
import type { Random } from './prng.js';

export const ARTIFACT_KINDS = ['marker', 'band', 'electrode'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** What was drawn, with its box in pixels (x, y, width, height: the mask's extent). */
export type ArtifactInfo =
  | ({ kind: 'marker' } & MarkerInfo)
  | ({ kind: 'band' } & BandInfo)
  | ({ kind: 'electrode' } & ElectrodeInfo);

export interface ArtifactScene {
  image: Uint8Array;
  anatomy: Anatomy;
  /** Aerated-lung alpha per pixel. */
  lung: Float32Array;
  /** The opacities' mask: an electrode never covers them. */
  lesionMask: Uint8Array;
  size: number;
}

export function drawArtifact(
  kind: ArtifactKind,
  scene: ArtifactScene,
  rng: Random,
): { info: ArtifactInfo; mask: Uint8Array } {
  const { image, lung, size } = scene;
  switch (kind) {
    case 'marker': {
      const d = drawMarker(image, lung, size, rng);
      return { info: { kind, ...d.info }, mask: d.mask };
    }
    case 'band': {
      const d = drawBand(image, lung, size, rng);
      return { info: { kind, ...d.info }, mask: d.mask };
    }
    case 'electrode': {
      const d = drawElectrode(image, scene.anatomy, lung, scene.lesionMask, size, rng);
      return { info: { kind, ...d.info }, mask: d.mask };
    }
  }
}
