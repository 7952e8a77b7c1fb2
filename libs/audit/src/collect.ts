/**
 * Data-set statistics of an audit, built one image at a time (a 100k-image run never needs its
 * CAMs in memory at once): heat atlases per group, peak positions and coarse heat per audited
 * image, and a fixed-size, deterministic sample for the faithfulness curves.
 */
import type { CompactCam } from '@camflow/contracts';
import { camInFrame } from './compact-cam.js';
import { explainedClass } from './probabilities.js';
import { hashSeed } from './random.js';

/** One explained image, as a run's result or `camflow audit` gives it. */
export interface AuditImage {
  /** Unique within the audit: a job id, or the input's path. */
  id: string;
  /** How to show it to a person: an input path or `s3://bucket/key`. */
  example: string;
  /** Number of model outputs (1 = a yes/no decision). */
  numOutputs: number;
  /** Class probabilities in the audit's class space (see probabilities.ts). */
  probs: number[];
  predicted: number;
  /** The output index the CAM was taken from. */
  target: number;
  /** Ground truth in the audit's class space, when known. */
  label?: number;
  cam?: CompactCam;
}

/** The images of one audited class: those predicted as the class their CAM explains. */
export interface ClassImages {
  class: number;
  ids: string[];
  examples: string[];
  /** Peak x, y per image (model input pixels), interleaved. */
  peaks: number[];
  /** The class's probability per image. */
  probs: number[];
  /** 16 x 16 mean heat per image (bytes, 255 = 1), for heat shares. */
  coarse: Uint8Array[];
}

/** A mean normalised CAM over a group of images. */
export interface AtlasGroup {
  group: string;
  class?: number;
  outcome?: string;
  count: number;
  sum: Float64Array;
}

export interface Collected {
  images: number;
  /** Images without a CAM, or whose CAM is zero everywhere. */
  empty: number;
  /** The model input's frame and the CAM's cell size in it (from the first CAM). */
  frame?: { width: number; height: number; cell: [number, number] };
  grid: number;
  classes: Map<number, ClassImages>;
  atlases: Map<string, AtlasGroup>;
  /** Per audited class: where the peaks are, and where each image's top 5% of heat is. */
  peakDensity: Map<number, Float64Array>;
  hotDensity: Map<number, Float64Array>;
  /** The images with the smallest id hashes (deterministic), with their CAMs. */
  faithfulnessSample: AuditImage[];
  labelled: number;
}

export const COARSE = 16;

/** Accumulates images into `Collected`. */
export class AuditCollector {
  private readonly c: Collected;

  constructor(private readonly opts: { grid?: number; faithfulnessImages?: number } = {}) {
    this.c = {
      images: 0,
      empty: 0,
      grid: opts.grid ?? 64,
      classes: new Map(),
      atlases: new Map(),
      peakDensity: new Map(),
      hotDensity: new Map(),
      faithfulnessSample: [],
      labelled: 0,
    };
  }

  /** Adds one image (its CAM is read, pooled and dropped). */
  add(img: AuditImage): void {
    const c = this.c;
    c.images++;
    if (img.label !== undefined) c.labelled++;
    if (!img.cam) {
      c.empty++;
      return;
    }
    const f = camInFrame(img.cam, c.grid);
    if (f.empty) {
      c.empty++;
      return;
    }
    c.frame ??= { width: img.cam.input.width, height: img.cam.input.height, cell: f.cell };
    const explained = explainedClass(img.numOutputs, img.target);
    this.addAtlas(`predicted:${img.predicted}`, f.heat, { class: img.predicted });
    const outcome = outcomeOf(img);
    if (outcome) this.addAtlas(`outcome:${outcome}`, f.heat, { outcome });
    if (img.predicted !== explained) return;

    let cls = c.classes.get(explained);
    if (!cls) {
      cls = { class: explained, ids: [], examples: [], peaks: [], probs: [], coarse: [] };
      c.classes.set(explained, cls);
    }
    cls.ids.push(img.id);
    cls.examples.push(img.example);
    cls.peaks.push(f.peak[0], f.peak[1]);
    cls.probs.push(img.probs[explained]);
    cls.coarse.push(pool(f.heat, c.grid, COARSE));
    const g = c.grid;
    const peaks = densityOf(c.peakDensity, explained, g);
    const { width: W, height: H } = img.cam.input;
    peaks[
      Math.min(g - 1, Math.floor((f.peak[1] * g) / H)) * g +
        Math.min(g - 1, Math.floor((f.peak[0] * g) / W))
    ]++;
    addHot(densityOf(c.hotDensity, explained, g), f.heat);
    this.sample(img);
  }

  private addAtlas(group: string, heat: Float32Array, extra: { class?: number; outcome?: string }) {
    let a = this.c.atlases.get(group);
    if (!a) {
      a = { group, ...extra, count: 0, sum: new Float64Array(heat.length) };
      this.c.atlases.set(group, a);
    }
    a.count++;
    for (let i = 0; i < heat.length; i++) a.sum[i] += heat[i];
  }

  private sample(img: AuditImage): void {
    const max = this.opts.faithfulnessImages ?? 24;
    if (max <= 0) return;
    const s = this.c.faithfulnessSample;
    const h = hashSeed(img.id);
    if (s.length >= max && h >= hashSeed(s[s.length - 1].id)) return;
    s.push(img);
    s.sort((a, b) => hashSeed(a.id) - hashSeed(b.id));
    if (s.length > max) s.pop();
  }

  result(): Collected {
    return this.c;
  }
}

/** TP/FP/TN/FN for a yes/no model, correct/wrong otherwise; undefined without a label. */
export function outcomeOf(
  img: Pick<AuditImage, 'label' | 'predicted' | 'numOutputs'>,
): string | undefined {
  if (img.label === undefined) return undefined;
  if (img.numOutputs === 1) {
    if (img.predicted === 1) return img.label === 1 ? 'TP' : 'FP';
    return img.label === 1 ? 'FN' : 'TN';
  }
  return img.predicted === img.label ? 'correct' : 'wrong';
}

function densityOf(m: Map<number, Float64Array>, cls: number, g: number): Float64Array {
  let d = m.get(cls);
  if (!d) {
    d = new Float64Array(g * g);
    m.set(cls, d);
  }
  return d;
}

/** Adds 1 to the cells holding the image's hottest 5% of area. */
function addHot(into: Float64Array, heat: Float32Array): void {
  const sorted = Float32Array.from(heat).sort();
  const cut = sorted[Math.floor(sorted.length * 0.95)];
  if (!(cut > 0)) return;
  for (let i = 0; i < heat.length; i++) if (heat[i] >= cut) into[i]++;
}

/** Mean-pools a g x g map to n x n bytes. */
function pool(heat: Float32Array, g: number, n: number): Uint8Array {
  const sum = new Float32Array(n * n);
  const cnt = new Float32Array(n * n);
  for (let y = 0; y < g; y++) {
    const py = Math.floor((y * n) / g);
    for (let x = 0; x < g; x++) {
      const k = py * n + Math.floor((x * n) / g);
      sum[k] += heat[y * g + x];
      cnt[k]++;
    }
  }
  const out = new Uint8Array(n * n);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((255 * sum[i]) / Math.max(1, cnt[i]));
  return out;
}
