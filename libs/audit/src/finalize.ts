/**
 * From the plan and the images' measurements to the audit document: occlusion evidence per
 * candidate, findings, faithfulness, the verdict and its sentence.
 *
 * A candidate is a finding when occluding it hurts its carriers more than occluding controls
 * does: the one-sided Wilcoxon signed-rank test on (region drop - mean control drop) per carrier
 * has p < `maxP`,
 * and the mean probability drop beats the controls' by `minScoreDropGain`, or the flip rate
 * beats theirs by `minFlipGain`. The numbers are reported either way.
 */
import type { AuditDocument, Finding } from '@camflow/contracts';
import type { ImageResult } from './execute.js';
import { auc } from './faithfulness.js';
import type { AuditPlan, PlannedCandidate } from './plan.js';
import { wilcoxonSignedRank } from './sign-test.js';
import { placeOf } from './words.js';

export interface VerdictOptions {
  maxP?: number;
  minScoreDropGain?: number;
  minFlipGain?: number;
  /** Controls that flip more often than this: any occlusion breaks the model; the test cannot tell. */
  maxControlFlip?: number;
  /** Fewest carriers tested for a candidate's test to count. */
  minTested?: number;
  /** Share of images with an empty CAM above which the audit is inconclusive. */
  maxEmptyShare?: number;
}

export const VERDICT_DEFAULTS: Required<VerdictOptions> = {
  maxP: 0.01,
  minScoreDropGain: 0.05,
  minFlipGain: 0.1,
  maxControlFlip: 0.5,
  minTested: 5,
  maxEmptyShare: 0.5,
};

interface Evidence {
  flipRate: number;
  scoreDrop: number;
  controlFlipRate: number;
  controlScoreDrop: number;
  images: number;
  controls: number;
  pValue: number;
}

/** What the model and its classes are called. */
export interface ModelInfo {
  name: string;
  /** Class names in the audit's class space (index 1 of a yes/no model = its output's class). */
  classNames: string[];
  /** The layer and method the CAMs came from (reported). */
  layer?: string;
  method?: string;
}

export function finalizeAudit(
  plan: AuditPlan,
  results: readonly ImageResult[],
  model: ModelInfo,
  options: VerdictOptions = {},
): AuditDocument {
  const o = { ...VERDICT_DEFAULTS, ...options };
  const byId = new Map(results.map((r) => [r.id, r]));
  const evidence = plan.candidates.map((_, k) => occlusionEvidence(plan, byId, k));
  const frame = plan.frame ?? { width: 1, height: 1 };
  const name = (c: number) => model.classNames[c] ?? `class ${c}`;

  const tested = plan.candidates.map((cand, k) => {
    const e = evidence[k];
    const conclusive = e.images >= o.minTested && e.controlFlipRate <= o.maxControlFlip;
    const significant =
      conclusive &&
      e.pValue < o.maxP &&
      (e.scoreDrop - e.controlScoreDrop >= o.minScoreDropGain ||
        e.flipRate - e.controlFlipRate >= o.minFlipGain);
    return { cand, e, conclusive, significant, finding: toFinding(cand, e, frame, name) };
  });
  const findings = tested.filter((t) => t.significant).map((t) => t.finding);
  const auditedClasses = plan.classes.filter((c) => c.audited);
  const emptyShare = plan.images > 0 ? plan.empty / plan.images : 1;

  let verdict: AuditDocument['verdict'];
  let reason: string;
  if (findings.length > 0) {
    verdict = 'shortcut-suspected';
    reason =
      'a region holds the CAM peaks of many images and occluding it hurts them more than controls';
  } else if (auditedClasses.length === 0) {
    verdict = 'inconclusive';
    reason = `no class has the ${plan.minClassImages} predicted images an audit needs`;
  } else if (emptyShare > o.maxEmptyShare) {
    verdict = 'inconclusive';
    reason = `${pct(emptyShare)} of the CAMs are empty`;
  } else if (tested.some((t) => !t.conclusive)) {
    verdict = 'inconclusive';
    reason =
      'a candidate region could not be tested conclusively (too few carriers, or any occlusion changes the prediction)';
  } else if (plan.suggestive.length > 0) {
    verdict = 'inconclusive';
    const s = plan.suggestive[0];
    reason = `${pct(s.imageShare)} of the ${name(s.class)} predictions peak in one region at the ${placeOf(normBox(s.box, frame))}, but there are too few images around it to tell whether it is isolated (an artifact) or part of where the evidence spreads (anatomy): audit more images`;
  } else {
    verdict = 'no-finding';
    reason =
      plan.candidates.length === 0
        ? 'no compact region holds the CAM peaks of many images'
        : 'the candidate regions hurt predictions no more than controls when occluded';
  }

  const main = [...auditedClasses].sort((a, b) => b.images - a.images)[0];
  const atlas = plan.atlases.find((a) => main && a.group === `predicted:${main.class}`);
  const faithfulness = summariseFaithfulness(results);
  return {
    model: model.name,
    images: plan.images,
    verdict,
    findings,
    atlas: {
      width: plan.grid,
      height: plan.grid,
      data: atlas?.data ?? new Array(plan.grid * plan.grid).fill(0),
    },
    faithfulness,
    summary: sentence(verdict, findings, plan, name, reason),
    reason,
    atlasClass: main?.class ?? null,
    classes: plan.classes.map((c) => ({ ...c, name: name(c.class) })),
    candidates: tested.map((t) => ({
      ...t.finding,
      finding: t.significant,
      conclusive: t.conclusive,
    })),
    suggestive: plan.suggestive.map((g) => {
      const box = normBox(g.box, frame);
      return { ...g, box, className: name(g.class), place: placeOf(box) };
    }),
    atlases: plan.atlases.map((a) => ({ ...a, width: plan.grid, height: plan.grid })),
    peaks: plan.peaks.map((p) => ({ ...p, width: plan.grid, height: plan.grid })),
    hotspots: plan.hotspots.map((p) => ({ ...p, width: plan.grid, height: plan.grid })),
    emptyCams: plan.empty,
    labelled: plan.labelled,
    frame: plan.frame ? { width: plan.frame.width, height: plan.frame.height } : null,
    ...(model.layer && { layer: model.layer }),
    ...(model.method && { method: model.method }),
  };
}

function occlusionEvidence(plan: AuditPlan, byId: Map<string, ImageResult>, k: number): Evidence {
  let flips = 0;
  let drops = 0;
  let cFlips = 0;
  let cDrops = 0;
  let images = 0;
  let controls = 0;
  const diffs: number[] = [];
  for (const task of plan.tasks) {
    const r = byId.get(task.id);
    if (!r) continue;
    const region: { p: number; kept: boolean }[] = [];
    const ctrl: { p: number; kept: boolean }[] = [];
    task.roles.forEach((role, i) => {
      if (role.candidate !== k) return;
      const p = r.boxProbs[i];
      if (!Number.isFinite(p)) return;
      (role.control ? ctrl : region).push({ p, kept: r.boxKept[i] });
    });
    if (region.length === 0 || ctrl.length === 0) continue;
    const drop = task.prob - region[0].p;
    const cDrop = ctrl.reduce((a, c) => a + task.prob - c.p, 0) / ctrl.length;
    images++;
    controls = Math.max(controls, ctrl.length);
    flips += region[0].kept ? 0 : 1;
    drops += drop;
    cFlips += ctrl.filter((c) => !c.kept).length / ctrl.length;
    cDrops += cDrop;
    diffs.push(drop - cDrop);
  }
  const m = (v: number) => (images > 0 ? v / images : 0);
  return {
    flipRate: m(flips),
    scoreDrop: m(drops),
    controlFlipRate: m(cFlips),
    controlScoreDrop: m(cDrops),
    images,
    controls,
    pValue: wilcoxonSignedRank(diffs).p,
  };
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

function normBox([x, y, w, h]: readonly number[], frame: { width: number; height: number }) {
  return {
    x: r4(x / frame.width),
    y: r4(y / frame.height),
    width: r4(w / frame.width),
    height: r4(h / frame.height),
  };
}

function toFinding(
  cand: PlannedCandidate,
  e: Evidence,
  frame: { width: number; height: number },
  name: (c: number) => string,
): Finding {
  const box = normBox(cand.box, frame);
  const examples = cand.examples;
  return {
    class: cand.class,
    className: name(cand.class),
    box,
    imageShare: cand.imageShare,
    heatShare: cand.heatShare,
    occlusion: {
      flipRate: r4(e.flipRate),
      scoreDrop: r4(e.scoreDrop),
      controlFlipRate: r4(e.controlFlipRate),
      controlScoreDrop: r4(e.controlScoreDrop),
      images: e.images,
      controls: e.controls,
      pValue: Number(e.pValue.toPrecision(3)),
    },
    examples,
    ...(examples.length > 0 && { exampleJobs: cand.exampleIds }),
    excessShare: cand.excessShare,
    isolation: cand.isolation,
    isolationPoint: cand.isolationPoint,
    carriers: cand.carriers,
    place: placeOf(box),
  };
}

function summariseFaithfulness(results: readonly ImageResult[]): Record<string, unknown> {
  const curves = results.flatMap((r) => (r.faithfulness ? [r.faithfulness] : []));
  const mean = (f: (c: (typeof curves)[number]) => number) =>
    curves.length > 0 ? r4(curves.reduce((a, c) => a + f(c), 0) / curves.length) : null;
  const deletionAuc = mean((c) => auc(c.deletion));
  const insertionAuc = mean((c) => auc(c.insertion));
  const randomDeletionAuc = mean((c) => auc(c.randomDeletion));
  const randomInsertionAuc = mean((c) => auc(c.randomInsertion));
  const gain =
    deletionAuc === null ||
    insertionAuc === null ||
    randomDeletionAuc === null ||
    randomInsertionAuc === null
      ? null
      : r4(insertionAuc - deletionAuc - (randomInsertionAuc - randomDeletionAuc));
  return {
    images: curves.length,
    baseline: 'blur',
    steps: [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1],
    deletionAuc,
    insertionAuc,
    randomDeletionAuc,
    randomInsertionAuc,
    /** (insertion - deletion) of the CAM's order minus the random order's: > 0 beats chance. */
    gain,
    faithful: gain === null ? null : gain > 0.02,
  };
}

const pct = (v: number) => `${Math.round(100 * v)}%`;

function sentence(
  verdict: AuditDocument['verdict'],
  findings: Finding[],
  plan: AuditPlan,
  name: (c: number) => string,
  reason: string,
): string {
  if (verdict !== 'shortcut-suspected') {
    const audited = plan.classes
      .filter((c) => c.audited)
      .map((c) => `${c.images} ${name(c.class)}`);
    return `${verdict === 'no-finding' ? 'No finding' : 'Inconclusive'}: ${reason}${audited.length ? ` (audited: ${audited.join(', ')} predictions)` : ''}.`;
  }
  const byClass = new Map<number, Finding[]>();
  for (const f of findings) byClass.set(f.class, [...(byClass.get(f.class) ?? []), f]);
  const parts: string[] = [];
  for (const [c, fs] of byClass) {
    const share = fs.reduce((a, f) => a + f.imageShare, 0);
    const area = fs.reduce((a, f) => a + f.box.width * f.box.height, 0);
    const flips =
      fs.reduce((a, f) => a + f.occlusion.flipRate * (f.carriers ?? 0), 0) /
      Math.max(
        1,
        fs.reduce((a, f) => a + (f.carriers ?? 0), 0),
      );
    const cflips =
      fs.reduce((a, f) => a + f.occlusion.controlFlipRate * (f.carriers ?? 0), 0) /
      Math.max(
        1,
        fs.reduce((a, f) => a + (f.carriers ?? 0), 0),
      );
    const drop = fs.reduce((a, f) => a + f.occlusion.scoreDrop, 0) / fs.length;
    const cdrop = fs.reduce((a, f) => a + f.occlusion.controlScoreDrop, 0) / fs.length;
    const where =
      fs.length === 1
        ? `a ${pct(area)} region at the ${fs[0].place}`
        : `${fs.length} regions (${pct(area)} of the image in all: ${fs.map((f) => f.place).join(', ')})`;
    parts.push(
      `heat on ${pct(share)} of the ${name(c)} predictions concentrates in ${where}; occluding it flips ${pct(flips)} of them (controls ${pct(cflips)}) and lowers their ${name(c)} probability by ${drop.toFixed(2)} (controls ${cdrop.toFixed(2)})`,
    );
  }
  return `Shortcut suspected: ${parts.join('; ')}.`;
}
