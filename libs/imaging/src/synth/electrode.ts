/**
 * An ECG electrode on the upper chest: a bright metal snap in a ring (the pad's edge), about 6-9%
 * of the image wide, with a short lead wire running up and out towards the shoulders.
 *
 * Placed inside the body over the upper mediastinum and the medial infraclavicular chest, where
 * real limb/monitoring leads sit: the disc lies on soft tissue and may cover the medial lung
 * apex (at most half of its area on aerated lung), never the heart shadow (so a cardiomegaly
 * finding and the electrode stay separate) and never an opacity.
 */
import { type Anatomy, bodyAlpha, heartAlpha } from './anatomy.js';
import { toCanonical, toPixel } from './phantom.js';
import type { Random } from './prng.js';

/** Where an electrode was drawn, in pixels; the box is the artifact mask's extent. */
export interface ElectrodeInfo {
  /** Centre and outer radius of the disc. */
  cx: number;
  cy: number;
  radius: number;
  /** Share of the disc's pixels on aerated lung (lung alpha > 0.5). */
  lungShare: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Most of the disc stays off the aerated lung. */
export const ELECTRODE_MAX_LUNG_SHARE = 0.5;

interface Disc {
  cx: number;
  cy: number;
  r: number;
}

/** Whether a disc (plus a 2 px margin) lies inside the body, off the heart and `avoid`. */
function fits(a: Anatomy, avoid: Uint8Array, lung: Float32Array, size: number, d: Disc): boolean {
  const reach = d.r + 2;
  let onDisc = 0;
  let onLung = 0;
  for (let row = Math.floor(d.cy - reach); row <= Math.ceil(d.cy + reach); row++) {
    for (let col = Math.floor(d.cx - reach); col <= Math.ceil(d.cx + reach); col++) {
      const dist = Math.hypot(col - d.cx, row - d.cy);
      if (dist > reach) continue;
      if (row < 0 || col < 0 || row >= size || col >= size) return false;
      const k = row * size + col;
      if (avoid[k]) return false;
      const [x, y] = toCanonical(a, size, col, row);
      if (bodyAlpha(a, x, y) < 0.95 || heartAlpha(a, x, y) > 0.02) return false;
      if (dist <= d.r) {
        onDisc++;
        if (lung[k] > 0.5) onLung++;
      }
    }
  }
  return onLung <= ELECTRODE_MAX_LUNG_SHARE * onDisc;
}

/** Alpha of a 1 px anti-aliased edge: 1 inside `inner` distance, 0 beyond `inner + 1`. */
function edge(inner: number, dist: number): number {
  return Math.max(0, Math.min(1, inner + 0.5 - dist));
}

/** Distance from (px, py) to the polyline `pts` (x0, y0, x1, y1, ...). */
function polylineDistance(pts: number[], px: number, py: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 3 < pts.length; i += 2) {
    const ax = pts[i];
    const ay = pts[i + 1];
    const dx = pts[i + 2] - ax;
    const dy = pts[i + 3] - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
    best = Math.min(best, Math.hypot(px - ax - t * dx, py - ay - t * dy));
  }
  return best;
}

/**
 * The lead: a quadratic curve (as a polyline x0, y0, x1, y1, ...) from the disc's edge, up and
 * away from the midline (`side` -1: towards the image left).
 */
function leadWire(d: Disc, side: number, size: number, rng: Random): number[] {
  const theta = -Math.PI / 2 + side * (Math.PI / 4 + rng.uniform(-0.4, 0.4));
  const length = size * rng.uniform(0.08, 0.14);
  const bend = rng.uniform(-0.5, 0.5);
  const sag = rng.uniform(-0.25, 0.25) * length;
  const p0x = d.cx + d.r * Math.cos(theta);
  const p0y = d.cy + d.r * Math.sin(theta);
  const p2x = p0x + length * Math.cos(theta + bend);
  const p2y = p0y + length * Math.sin(theta + bend);
  const p1x = (p0x + p2x) / 2 - sag * Math.sin(theta);
  const p1y = (p0y + p2y) / 2 + sag * Math.cos(theta);
  const pts: number[] = [];
  const steps = Math.max(4, Math.ceil(length / 2));
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    pts.push(
      u * u * p0x + 2 * u * t * p1x + t * t * p2x,
      u * u * p0y + 2 * u * t * p1y + t * t * p2y,
    );
  }
  return pts;
}

/** Whether the wire (within `reach` px of the polyline) stays off the heart and `avoid`. */
function wireClear(
  a: Anatomy,
  avoid: Uint8Array,
  size: number,
  pts: number[],
  reach: number,
): boolean {
  const x0 = Math.max(0, Math.floor(Math.min(...pts.filter((_, i) => i % 2 === 0)) - reach));
  const x1 = Math.min(size - 1, Math.ceil(Math.max(...pts.filter((_, i) => i % 2 === 0)) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(...pts.filter((_, i) => i % 2 === 1)) - reach));
  const y1 = Math.min(size - 1, Math.ceil(Math.max(...pts.filter((_, i) => i % 2 === 1)) + reach));
  for (let row = y0; row <= y1; row++) {
    for (let col = x0; col <= x1; col++) {
      if (polylineDistance(pts, col, row) > reach) continue;
      if (avoid[row * size + col]) return false;
      const [x, y] = toCanonical(a, size, col, row);
      if (heartAlpha(a, x, y) > 0.02) return false;
    }
  }
  return true;
}

/**
 * Draws an electrode into `image` (size x size, in place) and returns its description and mask
 * (the disc and the wire, dilated by one pixel). `lung` is the aerated-lung alpha, `avoid` a
 * mask the disc must not touch (the opacities).
 */
export function drawElectrode(
  image: Uint8Array,
  a: Anatomy,
  lung: Float32Array,
  avoid: Uint8Array,
  size: number,
  rng: Random,
): { info: ElectrodeInfo; mask: Uint8Array } {
  const r = size * rng.uniform(0.03, 0.045);
  const wireHalf = Math.max(0.6, size * 0.0035);
  let disc: Disc = { cx: 0, cy: 0, r };
  let wire: number[] = [];
  for (let attempt = 0; attempt < 64; attempt++) {
    // After many failures, over the upper mediastinum: no lung, heart or opacity there.
    const x = attempt < 48 ? rng.uniform(-0.25, 0.25) : rng.uniform(-0.04, 0.04);
    const y = rng.uniform(-0.58, -0.36);
    const [cx, cy] = toPixel(a, size, x, y);
    disc = { cx, cy, r };
    wire = leadWire(disc, x < 0 ? -1 : 1, size, rng);
    if (fits(a, avoid, lung, size, disc) && wireClear(a, avoid, size, wire, wireHalf + 1)) break;
  }

  const level = rng.uniform(0.94, 1.0) * 255;
  const ringLevel = level * rng.uniform(0.8, 0.92);
  const padGain = rng.uniform(8, 20);
  const ringWidth = Math.max(1, 0.18 * r);
  const snap = r * rng.uniform(0.42, 0.52);

  let x0 = Math.floor(disc.cx - r - 2);
  let y0 = Math.floor(disc.cy - r - 2);
  let x1 = Math.ceil(disc.cx + r + 2);
  let y1 = Math.ceil(disc.cy + r + 2);
  for (let i = 0; i < wire.length; i += 2) {
    x0 = Math.min(x0, Math.floor(wire[i] - wireHalf - 2));
    x1 = Math.max(x1, Math.ceil(wire[i] + wireHalf + 2));
    y0 = Math.min(y0, Math.floor(wire[i + 1] - wireHalf - 2));
    y1 = Math.max(y1, Math.ceil(wire[i + 1] + wireHalf + 2));
  }
  x0 = Math.max(0, x0);
  y0 = Math.max(0, y0);
  x1 = Math.min(size - 1, x1);
  y1 = Math.min(size - 1, y1);

  const wireAlpha = new Float32Array((x1 - x0 + 1) * (y1 - y0 + 1));
  const mask = new Uint8Array(size * size);
  let onDisc = 0;
  let onLung = 0;
  for (let row = y0; row <= y1; row++) {
    for (let col = x0; col <= x1; col++) {
      const k = row * size + col;
      const dist = Math.hypot(col - disc.cx, row - disc.cy);
      const w = edge(wireHalf, polylineDistance(wire, col, row)) * (dist > r ? 1 : 0);
      wireAlpha[(row - y0) * (x1 - x0 + 1) + (col - x0)] = w;
      let v = image[k];
      let touched = false;
      // Only pixels some part of the disc covers change (all inside the mask below).
      if (dist < r + 0.5) {
        v += padGain * edge(r, dist);
        const ring = Math.min(edge(r, dist), edge(0, r - ringWidth - dist));
        v = v * (1 - ring) + ringLevel * ring;
        const s = edge(snap, dist);
        v = v * (1 - s) + level * s;
        touched = true;
      }
      if (w > 0) {
        v = v * (1 - w) + ringLevel * w;
        touched = true;
      }
      if (touched) image[k] = Math.max(0, Math.min(255, Math.round(v + 4 * rng.normal())));
      if (dist <= r + 0.5) {
        mask[k] = 255;
        onDisc++;
        if (lung[k] > 0.5) onLung++;
      }
    }
  }
  // The wire's pixels, dilated by one: thin strokes a model may latch on to.
  const bw = x1 - x0 + 1;
  for (let row = y0; row <= y1; row++) {
    for (let col = x0; col <= x1; col++) {
      let near = false;
      for (let dr = -1; dr <= 1 && !near; dr++) {
        for (let dc = -1; dc <= 1 && !near; dc++) {
          const rr = row + dr - y0;
          const cc = col + dc - x0;
          if (rr >= 0 && cc >= 0 && rr <= y1 - y0 && cc < bw && wireAlpha[rr * bw + cc] > 0.25) {
            near = true;
          }
        }
      }
      if (near) mask[row * size + col] = 255;
    }
  }
  const box = maskBox(mask, size, x0, y0, x1, y1);
  return {
    info: {
      cx: Math.round(disc.cx * 10) / 10,
      cy: Math.round(disc.cy * 10) / 10,
      radius: Math.round(r * 10) / 10,
      lungShare: onDisc > 0 ? Math.round((onLung / onDisc) * 1000) / 1000 : 0,
      ...box,
    },
    mask,
  };
}

/** Bounding box of the mask's set pixels within [x0, x1] x [y0, y1]. */
function maskBox(mask: Uint8Array, size: number, x0: number, y0: number, x1: number, y1: number) {
  let bx0 = size;
  let by0 = size;
  let bx1 = -1;
  let by1 = -1;
  for (let row = y0; row <= y1; row++) {
    for (let col = x0; col <= x1; col++) {
      if (!mask[row * size + col]) continue;
      bx0 = Math.min(bx0, col);
      bx1 = Math.max(bx1, col);
      by0 = Math.min(by0, row);
      by1 = Math.max(by1, row);
    }
  }
  return { x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 };
}
