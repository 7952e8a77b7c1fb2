/**
 * Renders one phantom: anatomy (body, lungs, heart, mediastinum, trachea, spine, ribs, clavicles,
 * vessel markings), optional pneumonia-like opacities, exposure variation, tone curve and grain.
 */
import {
  type Anatomy,
  bodyAlpha,
  bodyHalfWidth,
  heartAlpha,
  lungAlpha,
  lungShapeAlpha,
  mediastinumAlpha,
} from './anatomy.js';
import { addValueNoise, fractalNoise, gaussianTable, smoothstep } from './noise.js';
import type { Random } from './prng.js';

/** One opacity, in canonical coordinates. */
export interface Lesion {
  x: number;
  y: number;
  /** Radius along the lesion's own axes (rx = r * aspect, ry = r). */
  r: number;
  aspect: number;
  /** Orientation of the lesion's own x axis, as cos and sin. */
  cos: number;
  sin: number;
  /** Added density at the centre, as a fraction of the lung's air density. */
  strength: number;
  /** Boundary harmonics: radius factor 1 + sum(amp[k] cos((k + 2) theta + phase[k])). */
  harmonics: { amp: number; cos: number; sin: number }[];
}

/** Maps canonical (x, y) to image pixel coordinates (column, row) for an image of `size`. */
export function toPixel(a: Anatomy, size: number, x: number, y: number): [number, number] {
  const { tx, ty, rot, scale } = a.pose;
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  const u = tx + scale * (c * x - s * y);
  const v = ty + scale * (s * x + c * y);
  return [((u + 1) / 2) * size - 0.5, ((v + 1) / 2) * size - 0.5];
}

/** Inverse of `toPixel`: canonical (x, y) of pixel (column, row)'s centre. */
export function toCanonical(a: Anatomy, size: number, col: number, row: number): [number, number] {
  const { tx, ty, rot, scale } = a.pose;
  const c = Math.cos(rot) / scale;
  const s = Math.sin(rot) / scale;
  const u = ((col + 0.5) / size) * 2 - 1 - tx;
  const v = ((row + 0.5) / size) * 2 - 1 - ty;
  return [c * u + s * v, -s * u + c * v];
}

/**
 * Draws 1 to 3 lesions whose centres lie well inside an aerated lung field (rejection sampling on
 * the analytic lung alpha, so the result depends only on `rng` and the anatomy).
 */
export function sampleLesions(a: Anatomy, rng: Random, strengthScale = 1): Lesion[] {
  const u = rng.next();
  const count = u < 0.5 ? 1 : u < 0.8 ? 2 : 3;
  const lesions: Lesion[] = [];
  for (let k = 0; k < count; k++) {
    let r = k === 0 ? rng.uniform(0.13, 0.22) : rng.uniform(0.08, 0.15);
    const aspect = rng.uniform(0.7, 1.4);
    const angle = rng.uniform(0, Math.PI);
    const strength = rng.uniform(0.32, 0.62) * strengthScale;
    const harmonics = [0, 1, 2, 3].map((h) => {
      const amp = rng.uniform(0, 0.13) / Math.sqrt(h + 1);
      const phase = rng.uniform(0, 2 * Math.PI);
      return { amp, cos: Math.cos(phase), sin: Math.sin(phase) };
    });
    let placed: { x: number; y: number } | null = null;
    for (let attempt = 0; attempt < 200 && !placed; attempt++) {
      if (attempt > 0 && attempt % 40 === 0) r *= 0.8;
      const lung = a.lungs[rng.int(0, 1)];
      const x = lung.cx + rng.uniform(-1, 1) * Math.max(lung.rxLat, lung.rxMed);
      const y = lung.cy + rng.uniform(-0.85, 0.95) * lung.ry;
      if (lungAlpha(a, x, y) < 0.97) continue;
      // Most of the lesion must be aerated lung too: probe a ring at 70% of its extent.
      const reach = 0.7 * r * Math.max(1, aspect);
      let inside = true;
      for (let p = 0; p < 8 && inside; p++) {
        const t = (p / 8) * 2 * Math.PI;
        if (lungAlpha(a, x + reach * Math.cos(t), y + reach * Math.sin(t)) < 0.5) inside = false;
      }
      if (inside) placed = { x, y };
    }
    if (placed) {
      lesions.push({
        ...placed,
        r,
        aspect,
        cos: Math.cos(angle),
        sin: Math.sin(angle),
        strength,
        harmonics,
      });
    }
  }
  return lesions;
}

/**
 * Beyond this normalised radius a lesion's alpha is 0: the soft edge ends at 1.2 times the
 * boundary radius, which the harmonics stretch by at most 1 + 0.13 (1 + 1/sqrt 2 + 1/sqrt 3 + 1/2)
 * (< 1.37).
 */
const LESION_REACH = 1.2 * 1.37;

/** Alpha of a lesion at canonical (x, y): soft, with an irregular (harmonic) boundary. */
export function lesionAlpha(l: Lesion, x: number, y: number): number {
  const dx = x - l.x;
  const dy = y - l.y;
  const p = (l.cos * dx + l.sin * dy) / (l.r * l.aspect);
  const q = (-l.sin * dx + l.cos * dy) / l.r;
  const rho = Math.sqrt(p * p + q * q);
  if (rho > LESION_REACH) return 0;
  if (rho < 1e-9) return 1;
  // cos(k theta + phase) for k = 2, 3, ... from powers of the unit complex number e^(i theta).
  const ct = p / rho;
  const st = q / rho;
  let ck = ct * ct - st * st;
  let sk = 2 * ct * st;
  let edge = 1;
  for (let k = 0; k < l.harmonics.length; k++) {
    const h = l.harmonics[k];
    edge += h.amp * (ck * h.cos - sk * h.sin);
    const cn = ck * ct - sk * st;
    sk = sk * ct + ck * st;
    ck = cn;
  }
  return 1 - smoothstep(0.55, 1.2, rho / edge);
}

/** Work buffers, reused from one render to the next (rendering is synchronous). */
interface Scratch {
  size: number;
  density: Float32Array;
  lung: Float32Array;
  lowDensity: Float32Array;
  lowLung: Float32Array;
  vessels: Float32Array;
  mottle: Float32Array;
  fluff: Float32Array;
}

let scratch: Scratch | null = null;

/** The anatomy's smooth shapes are evaluated at half resolution, then interpolated. */
function lowSize(size: number): number {
  return Math.ceil(size / 2);
}

/** Bilinear resampling of a low x low image to size x size (pixel centres aligned). */
function upsample(src: Float32Array, low: number, dst: Float32Array, size: number): void {
  const ratio = low / size;
  const idx = new Int32Array(size);
  const w = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    const g = Math.min(low - 1, Math.max(0, (j + 0.5) * ratio - 0.5));
    const g0 = Math.min(low - 2, Math.floor(g));
    idx[j] = g0;
    w[j] = g - g0;
  }
  for (let i = 0; i < size; i++) {
    const r0 = idx[i] * low;
    const r1 = r0 + low;
    const wy = w[i];
    const base = i * size;
    for (let j = 0; j < size; j++) {
      const c = idx[j];
      const wx = w[j];
      const top = src[r0 + c] + (src[r0 + c + 1] - src[r0 + c]) * wx;
      const bottom = src[r1 + c] + (src[r1 + c + 1] - src[r1 + c]) * wx;
      dst[base + j] = top + (bottom - top) * wy;
    }
  }
}

function scratchFor(size: number): Scratch {
  if (scratch?.size !== size) {
    const n = size * size;
    const low = lowSize(size);
    scratch = {
      size,
      density: new Float32Array(n),
      lung: new Float32Array(n),
      lowDensity: new Float32Array(low * low),
      lowLung: new Float32Array(low * low),
      vessels: new Float32Array(n),
      mottle: new Float32Array(n),
      fluff: new Float32Array(n),
    };
  }
  return scratch;
}

export interface RenderedPhantom {
  /** 8-bit grey image. */
  image: Uint8Array;
  /**
   * Aerated-lung alpha per pixel (0..1). A shared work buffer: valid only until the next call of
   * `renderPhantom`; copy it to keep it.
   */
  lung: Float32Array;
  /** 255 where a lesion's alpha exceeds 0.5 inside the lungs. */
  lesionMask: Uint8Array;
}

/**
 * Renders the phantom for `anatomy` with `lesions`. `texture` drives the noise fields and the
 * grain, `tone` the exposure and tone curve.
 */
export function renderPhantom(
  a: Anatomy,
  lesions: readonly Lesion[],
  size: number,
  texture: Random,
  tone: Random,
): RenderedPhantom {
  const n = size * size;
  const work = scratchFor(size);
  const low = lowSize(size);
  // Every pixel of lowDensity is written below; lowLung only inside the body: clear it.
  const lowDensity = work.lowDensity;
  const lowLung = work.lowLung;
  lowLung.fill(0);

  // Vessel markings: ridges (zero crossings) of a mid-frequency noise field, plus fine mottling.
  const vessels = fractalNoise(size, 7, 2, texture, work.vessels);
  const mottle = work.mottle;
  mottle.fill(0);
  addValueNoise(mottle, size, 24, 1, texture);

  const { tx, ty, rot, scale } = a.pose;
  const cr = Math.cos(rot) / scale;
  const sr = Math.sin(rot) / scale;
  const d = a.density;
  const sx = a.spine.x;
  const sh = a.spine.halfWidth;
  const ribs = a.ribs;
  const ribOffsets = Array.from(
    { length: ribs.count },
    (_, k) => k * ribs.spacing * (1 + 0.03 * k),
  );
  const ribStride = ribs.spacing * (1 + 0.03 * (ribs.count - 1));
  const ant = a.anteriorRibs;
  const [lungR, lungL] = a.lungs;
  const ribLimit = Math.max(lungR.rxLat - lungR.cx, lungL.rxLat + lungL.cx) + 0.06;
  const hilumY = (lungR.cy + lungL.cy) / 2 + 0.06;
  const diaphragmTop = a.heart.cy - 0.05;
  const lowStep = 2 / low;

  for (let i = 0; i < low; i++) {
    const v = (i + 0.5) * lowStep - 1 - ty;
    for (let j = 0; j < low; j++) {
      const k = i * low + j;
      const u = (j + 0.5) * lowStep - 1 - tx;
      const x = cr * u + sr * v;
      const y = -sr * u + cr * v;
      const ax = Math.abs(x);

      const body = bodyAlpha(a, x, y);
      if (body <= 0) {
        lowDensity[k] = d.background;
        continue;
      }
      const pw = ax / bodyHalfWidth(a, y);
      const thickness = 0.7 + 0.3 * Math.max(0, 1 - pw * pw);
      let val = d.background + d.soft * body * thickness;

      // Lungs, heart, mediastinum.
      const lshape = Math.max(lungShapeAlpha(lungR, x, y), lungShapeAlpha(lungL, x, y));
      const heart = heartAlpha(a, x, y);
      const med = mediastinumAlpha(a, x, y);
      const la = lshape * (1 - heart) * (1 - med);
      lowLung[k] = la;
      if (la > 0) val -= d.air * la * (1 - 0.18 * smoothstep(-0.3, 0.6, y));
      // Extra density of the heart and mediastinum above the diaphragm (below it all is soft tissue).
      const mass = Math.max(heart, med);
      if (mass > 0 && y < diaphragmTop + 0.15) {
        val += d.heart * mass * body * (1 - smoothstep(diaphragmTop, diaphragmTop + 0.15, y));
      }

      // Hila.
      if (lshape > 0) {
        const hdx = ax - 0.21;
        const hdy = y - hilumY;
        const h2 = hdx * hdx + hdy * hdy;
        if (h2 < 0.1) val += 0.06 * Math.exp(-h2 / 0.012) * lshape;
      }

      const sd = Math.abs(x - sx);

      // Trachea: an air column in the upper mediastinum.
      if (y < -0.28 && sd < 0.04) {
        const tr = 1 - smoothstep(0.022, 0.04, sd);
        val -= 0.09 * tr * (1 - smoothstep(-0.45, -0.28, y)) * body;
      }

      // Spine, with vertebral bodies and disc spaces.
      if (sd < sh + 0.015) {
        const sp = 1 - smoothstep(sh - 0.015, sh + 0.015, sd);
        const vert = 0.86 + 0.14 * Math.cos(2 * Math.PI * (y / a.spine.period + a.spine.phase));
        val += 0.65 * d.bone * sp * vert * body * (1 - 0.4 * heart);
      }

      // Posterior ribs (curving down laterally from the spine) and fainter anterior ribs.
      const dxr = sd - 0.05;
      if (dxr > 0 && dxr < ribLimit) {
        const th = ribs.th * (1 + 0.5 * dxr);
        const reach = 1.15 * th;
        const d0 = y - ribs.y0 - ribs.c1 * dxr - ribs.c2 * dxr * dxr;
        let rib = 0;
        // Offsets grow by at most ribStride per rib: skip the ribs that end above d0.
        for (let r = Math.max(0, Math.floor((d0 - reach) / ribStride)); r < ribs.count; r++) {
          const diff = d0 - ribOffsets[r];
          if (diff < -reach) break;
          if (diff < reach) {
            const q = Math.abs(diff) / th;
            rib = Math.max(rib, (1 - smoothstep(0.75, 1.15, q)) * (0.7 + 0.3 * q * q));
          }
        }
        if (dxr > 0.2) {
          const da = y - ant.y0 - ant.slope * (ribLimit - dxr);
          const first = Math.max(0, Math.floor((da - 1.2 * th) / ant.spacing));
          for (let r = first; r < Math.min(ant.count, first + 2); r++) {
            const dd = Math.abs(da - r * ant.spacing);
            if (dd < th * 1.2) {
              const aFade = smoothstep(0.2, 0.38, dxr);
              rib = Math.max(rib, 0.4 * aFade * (1 - smoothstep(0.7, 1.2, dd / th)));
            }
          }
        }
        if (rib > 0) {
          const fade = smoothstep(0, 0.1, dxr) * (1 - smoothstep(ribLimit - 0.05, ribLimit, dxr));
          val += d.bone * rib * fade * body * (0.3 + 0.7 * la);
        }
      }

      // Clavicles.
      if (sd > 0.03 && sd < 0.66 && y < -0.4) {
        const yc = a.clavicle.y + a.clavicle.slope * sd + 0.3 * (sd - 0.3) * (sd - 0.3);
        const dd = Math.abs(y - yc) / 0.032;
        if (dd < 1.15) {
          const cl = (1 - smoothstep(0.75, 1.15, dd)) * smoothstep(0.03, 0.09, sd);
          val += 0.85 * d.bone * cl * (1 - smoothstep(0.58, 0.66, sd)) * body;
        }
      }

      lowDensity[k] = val;
    }
  }

  const density = work.density;
  const lung = work.lung;
  upsample(lowDensity, low, density, size);
  upsample(lowLung, low, lung, size);

  // Vessel markings (fine detail, at full resolution), densest near the hila.
  const step = 2 / size;
  for (let i = 0; i < size; i++) {
    const v = (i + 0.5) * step - 1 - ty;
    for (let j = 0; j < size; j++) {
      const k = i * size + j;
      const la = lung[k];
      if (la <= 0) continue;
      const u = (j + 0.5) * step - 1 - tx;
      const hdx = Math.abs(cr * u + sr * v) - 0.21;
      const hdy = -sr * u + cr * v - hilumY;
      const near = 0.35 + 1 / (1 + (hdx * hdx + hdy * hdy) / 0.04);
      const ridge = Math.max(0, 1 - Math.abs(vessels[k]) * 5);
      density[k] += la * (0.07 * ridge * ridge * near + 0.02 * mottle[k]);
    }
  }

  // Opacities: a fluffy density added where the lung is aerated.
  const lesionMask = new Uint8Array(n);
  if (lesions.length > 0) {
    const fluff = fractalNoise(size, 12, 2, texture, work.fluff);
    for (const l of lesions) {
      const [cj, ci] = toPixel(a, size, l.x, l.y);
      const reach = LESION_REACH * l.r * Math.max(1, l.aspect) * a.pose.scale * (size / 2) + 2;
      const i0 = Math.max(0, Math.floor(ci - reach));
      const i1 = Math.min(size - 1, Math.ceil(ci + reach));
      const j0 = Math.max(0, Math.floor(cj - reach));
      const j1 = Math.min(size - 1, Math.ceil(cj + reach));
      for (let i = i0; i <= i1; i++) {
        const v = (i + 0.5) * step - 1 - ty;
        for (let j = j0; j <= j1; j++) {
          const u = (j + 0.5) * step - 1 - tx;
          const x = cr * u + sr * v;
          const y = -sr * u + cr * v;
          const alpha = lesionAlpha(l, x, y);
          if (alpha <= 0) continue;
          const k = i * size + j;
          const la = lung[k];
          const texture01 = 0.65 + 0.7 * (0.5 + 0.5 * fluff[k]);
          density[k] += d.air * l.strength * alpha * texture01 * la;
          if (alpha > 0.5 && la > 0.5) lesionMask[k] = 255;
        }
      }
    }
  }

  // Exposure: low-frequency non-uniformity and an anode heel gradient.
  addValueNoise(density, size, 3, tone.uniform(0.01, 0.035), tone);
  const heel = tone.uniform(-0.04, 0.04);
  const angle = tone.uniform(0, 2 * Math.PI);
  const hx = Math.cos(angle) * heel;
  const hy = Math.sin(angle) * heel;

  // Tone curve (contrast, brightness, gamma) through a lookup table, then grain.
  const contrast = tone.uniform(0.85, 1.2);
  const brightness = tone.uniform(-0.06, 0.06);
  const gamma = tone.uniform(0.8, 1.25);
  const grain = tone.uniform(0.008, 0.022);
  const LUT_SIZE = 4096;
  const lut = new Float32Array(LUT_SIZE + 1);
  for (let k = 0; k <= LUT_SIZE; k++) {
    const t = (k / LUT_SIZE - 0.45) * contrast + 0.45 + brightness;
    lut[k] = Math.max(0, Math.min(1, t)) ** gamma;
  }
  const image = new Uint8Array(n);
  const gauss = gaussianTable();
  let bits = 0;
  for (let i = 0; i < size; i++) {
    const v = (i + 0.5) * step - 1;
    for (let j = 0; j < size; j++) {
      const u = (j + 0.5) * step - 1;
      const k = i * size + j;
      const val = density[k] + hx * u + hy * v;
      const clamped = Math.max(0, Math.min(1, val));
      // Two Gaussian deviates per 32 random bits (k runs consecutively, so parity alternates).
      let r: number;
      if ((k & 1) === 0) {
        bits = tone.uint32();
        r = gauss[bits & 0xfff];
      } else {
        r = gauss[bits >>> 20];
      }
      const g = lut[(clamped * LUT_SIZE + 0.5) | 0] + grain * r;
      image[k] = g <= 0 ? 0 : g >= 1 ? 255 : (g * 255 + 0.5) | 0;
    }
  }
  return { image, lung, lesionMask };
}
