/**
 * From the collected statistics to the work the audit still needs: candidate regions per class,
 * and for a sample of each candidate's carriers the occlusions (region and controls), plus the
 * faithfulness sample. JSON-serialisable: a pipeline keeps it between its plan and finalize jobs.
 */
import type { CompactCam } from '@camflow/contracts';
import {
  type Candidate,
  type CandidateOptions,
  heatShare,
  type PixelBox,
  scanCandidates,
} from './candidates.js';
import type { Collected } from './collect.js';
import { controlBoxes } from './occlusion.js';
import { hashSeed } from './random.js';

export interface PlanOptions extends CandidateOptions {
  /** Fewest images of a class to audit it. Default 20. */
  minClassImages?: number;
  /** Carriers occluded per candidate (a deterministic sample). Default 48. */
  carriersTested?: number;
  /** Control placements per tested carrier. Default 3. */
  controlsPerImage?: number;
}

export const PLAN_DEFAULTS = { minClassImages: 20, carriersTested: 48, controlsPerImage: 3 };

export interface PlannedCandidate {
  class: number;
  box: PixelBox;
  imageShare: number;
  excessShare: number;
  isolation: number;
  isolationPoint: number;
  carriers: number;
  heatShare: number;
  /** A few carriers, most typical first (the hottest in the box). */
  examples: string[];
  exampleIds: string[];
}

/** One image's work: occlude each box, and optionally the faithfulness curves. */
export interface ImageTask {
  id: string;
  example: string;
  class: number;
  /** The class's probability on the unmodified image (from the run). */
  prob: number;
  boxes: PixelBox[];
  /** Per box: which candidate, and whether it is the region or a control. */
  roles: { candidate: number; control: boolean }[];
  faithfulness?: { seed: number; cam: CompactCam };
}

export interface AuditPlan {
  /** Classes with fewer predicted images are not audited. */
  minClassImages: number;
  images: number;
  empty: number;
  labelled: number;
  frame?: { width: number; height: number; cell: [number, number] };
  grid: number;
  /** Audited classes and their image counts (those below the minimum are listed, not audited). */
  classes: { class: number; images: number; audited: boolean }[];
  atlases: { group: string; class?: number; outcome?: string; count: number; data: number[] }[];
  peaks: { class: number; data: number[] }[];
  hotspots: { class: number; data: number[] }[];
  candidates: PlannedCandidate[];
  /** Boxes isolated on the point estimate only: too few images to tell (see candidates.ts). */
  suggestive: Omit<PlannedCandidate, 'heatShare' | 'examples' | 'exampleIds'>[];
  tasks: ImageTask[];
}

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

/** Plans the audit from what was collected. */
export function planAudit(c: Collected, options: PlanOptions = {}): AuditPlan {
  const o = { ...PLAN_DEFAULTS, ...options };
  const tasks = new Map<string, ImageTask>();
  const candidates: PlannedCandidate[] = [];
  const suggestive: AuditPlan['suggestive'] = [];
  const classes: AuditPlan['classes'] = [];
  for (const cls of [...c.classes.values()].sort((a, b) => a.class - b.class)) {
    const audited = cls.ids.length >= o.minClassImages && c.frame !== undefined;
    classes.push({ class: cls.class, images: cls.ids.length, audited });
    if (!audited || !c.frame) continue;
    const frame = c.frame;
    const scan = scanCandidates(cls, frame, options);
    const found: Candidate[] = scan.candidates;
    if (scan.suggestive) {
      const g = scan.suggestive;
      suggestive.push({
        class: g.class,
        box: g.box.map((v) => round(v, 2)) as PixelBox,
        imageShare: round(g.imageShare),
        excessShare: round(g.excessShare),
        isolation: round(g.isolation, 1),
        isolationPoint: round(Math.min(g.isolationPoint, 1e4), 1),
        carriers: g.carriers,
      });
    }
    const boxes = found.map((f) => f.box);
    for (const cand of found) {
      const index = candidates.length;
      const tested = [...cand.carriers]
        .sort((a, b) => hashSeed(`${cls.ids[a]}:${index}`) - hashSeed(`${cls.ids[b]}:${index}`))
        .slice(0, o.carriersTested);
      const typical = [...cand.carriers]
        .map((i) => ({ i, share: heatShare(cls, [i], cand.box, frame) }))
        .sort((a, b) => b.share - a.share)
        .slice(0, 4);
      candidates.push({
        class: cls.class,
        box: cand.box.map((v) => round(v, 2)) as PixelBox,
        imageShare: round(cand.imageShare),
        excessShare: round(cand.excessShare),
        isolation: round(Math.min(cand.isolation, 1e4), 1),
        isolationPoint: round(Math.min(cand.isolationPoint, 1e4), 1),
        carriers: cand.carriers.length,
        heatShare: round(heatShare(cls, cand.carriers, cand.box, frame)),
        examples: typical.map((t) => cls.examples[t.i]),
        exampleIds: typical.map((t) => cls.ids[t.i]),
      });
      for (const i of tested) {
        const task = taskFor(tasks, cls.ids[i], cls.examples[i], cls.class, cls.probs[i]);
        task.boxes.push(cand.box);
        task.roles.push({ candidate: index, control: false });
        for (const b of controlBoxes(
          cand.box,
          boxes,
          cls.peaks,
          frame,
          o.controlsPerImage,
          `${cls.ids[i]}:${index}`,
        )) {
          task.boxes.push(b);
          task.roles.push({ candidate: index, control: true });
        }
      }
    }
  }
  for (const img of c.faithfulnessSample) {
    const cls = c.classes.get(img.predicted);
    if (!img.cam || !cls || cls.ids.length < o.minClassImages) continue;
    const task = taskFor(tasks, img.id, img.example, img.predicted, img.probs[img.predicted]);
    task.faithfulness = { seed: hashSeed(img.id), cam: img.cam };
  }
  const mean = (sum: Float64Array, n: number) => Array.from(sum, (v) => round(n > 0 ? v / n : 0));
  return {
    minClassImages: o.minClassImages,
    images: c.images,
    empty: c.empty,
    labelled: c.labelled,
    frame: c.frame,
    grid: c.grid,
    classes,
    atlases: [...c.atlases.values()].map((a) => ({
      group: a.group,
      ...(a.class !== undefined && { class: a.class }),
      ...(a.outcome && { outcome: a.outcome }),
      count: a.count,
      data: mean(a.sum, a.count),
    })),
    peaks: [...c.peakDensity].map(([k, d]) => ({
      class: k,
      data: mean(d, c.classes.get(k)?.ids.length ?? 0),
    })),
    hotspots: [...c.hotDensity].map(([k, d]) => ({
      class: k,
      data: mean(d, c.classes.get(k)?.ids.length ?? 0),
    })),
    candidates,
    suggestive,
    tasks: [...tasks.values()],
  };
}

function taskFor(
  tasks: Map<string, ImageTask>,
  id: string,
  example: string,
  cls: number,
  prob: number,
): ImageTask {
  let t = tasks.get(id);
  if (!t) {
    t = { id, example, class: cls, prob, boxes: [], roles: [] };
    tasks.set(id, t);
  }
  return t;
}
