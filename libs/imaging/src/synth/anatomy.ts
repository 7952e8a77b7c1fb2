/**
 * The anatomy of one phantom: a set of random parameters and the analytic shapes built from them.
 *
 * Shapes live in "canonical" coordinates: x and y in [-1, 1] from the left/top to the right/bottom
 * edge of an unmoved image (the image's left is the patient's right, as on a PA chest film). Each
 * image then moves the whole body by a small random similarity transform (see `Pose`).
 */
import { smoothstep } from './noise.js';
import type { Random } from './prng.js';

export interface LungShape {
  /** -1: the image's left lung (patient's right), +1: the image's right lung. */
  side: -1 | 1;
  cx: number;
  cy: number;
  /** Half-width towards the chest wall and towards the mediastinum. */
  rxLat: number;
  rxMed: number;
  /** Half-height. */
  ry: number;
  /** Width factor at the apex (narrower top). */
  apex: number;
  /** How much the diaphragm's dome raises the middle of the lung base. */
  dome: number;
}

/** Small random similarity transform from canonical to image coordinates. */
export interface Pose {
  tx: number;
  ty: number;
  rot: number;
  scale: number;
}

export interface Anatomy {
  pose: Pose;
  body: { rx: number; shoulderY: number; shoulderSlope: number; neckHalfWidth: number };
  lungs: [LungShape, LungShape];
  /** The heart: a tilted ellipse (cos and sin of its tilt precomputed). */
  heart: { cx: number; cy: number; rx: number; ry: number; cos: number; sin: number };
  mediastinum: { halfWidth: number; knobY: number };
  spine: { x: number; halfWidth: number; period: number; phase: number };
  ribs: { y0: number; spacing: number; c1: number; c2: number; th: number; count: number };
  anteriorRibs: { y0: number; spacing: number; slope: number; count: number };
  clavicle: { y: number; slope: number };
  density: { background: number; soft: number; air: number; bone: number; heart: number };
}

function tilt(rot: number): { cos: number; sin: number } {
  return { cos: Math.cos(rot), sin: Math.sin(rot) };
}

export function sampleAnatomy(rng: Random): Anatomy {
  const pose: Pose = {
    tx: rng.uniform(-0.06, 0.06),
    ty: rng.uniform(-0.05, 0.05),
    rot: rng.uniform(-0.07, 0.07),
    scale: rng.uniform(0.9, 1.05),
  };
  const sep = rng.uniform(0.44, 0.5);
  const medHalfWidth = rng.uniform(0.11, 0.14);
  const rCy = rng.uniform(-0.12, -0.05);
  const rRx = rng.uniform(0.29, 0.34);
  const right: LungShape = {
    side: -1,
    cx: -sep - rng.uniform(-0.02, 0.02),
    cy: rCy,
    rxLat: rRx,
    rxMed: sep - medHalfWidth + rng.uniform(0, 0.04),
    ry: rng.uniform(0.6, 0.67),
    apex: rng.uniform(0.75, 0.9),
    dome: rng.uniform(0.1, 0.2),
  };
  const left: LungShape = {
    side: 1,
    cx: sep + rng.uniform(-0.02, 0.03),
    cy: rCy + rng.uniform(0.01, 0.05),
    rxLat: rRx * rng.uniform(0.92, 1.04),
    rxMed: sep - medHalfWidth + rng.uniform(0, 0.04),
    ry: right.ry * rng.uniform(1.0, 1.06),
    apex: rng.uniform(0.75, 0.9),
    dome: rng.uniform(0.1, 0.2),
  };
  const ribsY0 = rng.uniform(-0.9, -0.8);
  return {
    pose,
    body: {
      rx: rng.uniform(0.86, 0.94),
      shoulderY: rng.uniform(-0.95, -0.85),
      shoulderSlope: rng.uniform(0.25, 0.45),
      neckHalfWidth: rng.uniform(0.16, 0.2),
    },
    lungs: [right, left],
    heart: {
      cx: rng.uniform(0.05, 0.12),
      cy: left.cy + left.ry * rng.uniform(0.6, 0.72),
      rx: rng.uniform(0.34, 0.4),
      ry: rng.uniform(0.26, 0.32),
      ...tilt(rng.uniform(-0.35, -0.12)),
    },
    mediastinum: { halfWidth: medHalfWidth, knobY: rng.uniform(-0.36, -0.26) },
    spine: {
      x: rng.uniform(-0.015, 0.015),
      halfWidth: rng.uniform(0.055, 0.07),
      period: rng.uniform(0.1, 0.125),
      phase: rng.uniform(0, 1),
    },
    ribs: {
      y0: ribsY0,
      spacing: rng.uniform(0.13, 0.155),
      c1: rng.uniform(-0.22, -0.1),
      c2: rng.uniform(0.5, 0.75),
      th: rng.uniform(0.03, 0.04),
      count: 9,
    },
    anteriorRibs: {
      y0: ribsY0 + rng.uniform(0.1, 0.2),
      spacing: rng.uniform(0.15, 0.18),
      slope: rng.uniform(0.35, 0.5),
      count: 6,
    },
    clavicle: { y: rng.uniform(-0.72, -0.64), slope: rng.uniform(-0.3, -0.15) },
    density: {
      background: rng.uniform(0.02, 0.07),
      soft: rng.uniform(0.5, 0.6),
      air: rng.uniform(0.28, 0.36),
      bone: rng.uniform(0.12, 0.19),
      heart: rng.uniform(0.02, 0.05),
    },
  };
}

/**
 * Alpha (0..1) of one lung field at canonical (x, y), before the heart and mediastinum: a shield
 * shape with a rounded apex, widest low down, and a domed base (the hemidiaphragm) meeting the
 * chest wall in a sharp, low costophrenic angle.
 */
export function lungShapeAlpha(l: LungShape, x: number, y: number): number {
  const t = (y - l.cy) / l.ry;
  if (t < -1 || t > 1.1) return 0;
  const dx = (x - l.cx) * l.side;
  const rx = dx > 0 ? l.rxLat : l.rxMed;
  if (Math.abs(dx) > rx + EDGE) return 0;
  // Half-width profile: 0 at the apex (t = -1), widest at t = WIDEST.
  const w = (t - WIDEST) / (1 + WIDEST);
  const half = rx * Math.sqrt(Math.max(0, 1 - w * w)) * (l.apex + (1 - l.apex) * (t + 1) * 0.5);
  const side = 1 - smoothstep(-EDGE, EDGE, Math.abs(dx) - half);
  if (side === 0) return 0;
  const xn = Math.min(1, Math.abs(dx) / rx);
  const base = 1 - l.dome * (1 - xn * xn);
  return side * (1 - smoothstep(-EDGE, EDGE, (t - base) * l.ry));
}

const WIDEST = 0.45;
const EDGE = 0.018;

/** Half-width of the body's silhouette at canonical height y (wider at the shoulders). */
export function bodyHalfWidth(a: Anatomy, y: number): number {
  return a.body.rx * (1 - 0.07 * smoothstep(0.3, 1.2, y)) + 0.12 * (1 - smoothstep(-0.8, -0.4, y));
}

/** Alpha of the body: torso, sloping shoulders and the neck. */
export function bodyAlpha(a: Anatomy, x: number, y: number): number {
  const ax = Math.abs(x);
  const b = a.body;
  const torso = 1 - smoothstep(-0.025, 0.025, ax - bodyHalfWidth(a, y));
  if (torso === 0) return 0;
  const over = Math.max(0, ax - b.neckHalfWidth);
  const top = b.shoulderY + b.shoulderSlope * over * over - 0.6 * (1 - smoothstep(0, 0.06, over));
  return torso * smoothstep(-0.03, 0.03, y - top);
}

/** Alpha of the heart shadow (a tilted ellipse). */
export function heartAlpha(a: Anatomy, x: number, y: number): number {
  const h = a.heart;
  const dx = x - h.cx;
  const dy = y - h.cy;
  const reach = 1.06 * Math.max(h.rx, h.ry);
  if (dx > reach || dx < -reach || dy > reach || dy < -reach) return 0;
  const p = (h.cos * dx + h.sin * dy) / h.rx;
  const q = (-h.sin * dx + h.cos * dy) / h.ry;
  return 1 - smoothstep(0.85, 1.12, p * p + q * q);
}

/** Alpha of the upper mediastinum (central soft-tissue band with the aortic knob). */
export function mediastinumAlpha(a: Anatomy, x: number, y: number): number {
  const m = a.mediastinum;
  if (y > a.heart.cy + 0.1) return 0;
  const ax = Math.abs(x - a.spine.x);
  if (ax > m.halfWidth + 0.12) return 0;
  let hw = m.halfWidth + 0.03 * smoothstep(-0.8, 0.1, y);
  if (x > 0) {
    const ky = (y - m.knobY) / 0.08;
    hw += 0.06 * Math.exp(-ky * ky);
  }
  return 1 - smoothstep(hw - 0.025, hw + 0.025, ax);
}

/** Alpha of the aerated lung at canonical (x, y): both lung fields minus heart and mediastinum. */
export function lungAlpha(a: Anatomy, x: number, y: number): number {
  const l = Math.max(lungShapeAlpha(a.lungs[0], x, y), lungShapeAlpha(a.lungs[1], x, y));
  if (l === 0) return 0;
  return l * (1 - heartAlpha(a, x, y)) * (1 - mediastinumAlpha(a, x, y));
}
