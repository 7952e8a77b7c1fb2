import { type CompletedEvent, type FailedEvent, type Finding, redisKeys } from '@camflow/contracts';
import type { RouteContext } from '../context.js';
import { type AuditView, auditView } from '../store/audit.js';
import { type LabelFigures, labelFigures } from '../store/label-figures.js';
import { classNames, type Evaluation, evaluate, type Outcome, outcomeOf } from '../store/labels.js';
import { canSeeRun, loadRun, runStatus, type StoredRun, scanResults } from '../store/queries.js';
import { regionsOf } from '../store/result-view.js';
import type { RunView } from '../store/run-status.js';
import { scanZset } from '../store/zset-scan.js';

/** One gallery card. */
export interface GalleryItem {
  event: CompletedEvent;
  /** Indices (in the audit's findings) of the regions this image carries: its CAM peaks there. */
  regions: number[];
  outcome?: Outcome;
  overlayUrl?: string;
  resultUrl?: string;
  /** Each of the event's `cams` overlays, in its order (undefined where signing failed). */
  camUrls?: (string | undefined)[];
}

/** Mean CAM statistics of the results with one outcome. */
export interface OutcomeStats {
  n: number;
  meanScore: number | null;
  meanBorderEnergy: number | null;
  meanEntropy: number | null;
  /** Images carrying a finding's region. */
  inRegion: number;
}

/** Everything a report shows, gathered from Redis (and presigned) once. */
export interface ReportData {
  run: RunView;
  audit: AuditView;
  generatedAt: number;
  /** Results read for the statistics, and whether that was all of them. */
  scanned: number;
  truncated: boolean;
  completed: CompletedEvent[];
  failed: FailedEvent[];
  /** Results carrying a finding's region. */
  inRegion: number;
  failureReasons: [string, number][];
  gallery: GalleryItem[];
  /** Cards there would be without the gallery limit. */
  galleryCandidates: number;
  galleryLimit: number;
  evaluation?: Evaluation;
  /**
   * Per-label (multi-label) or one-vs-rest (multi-class) figures: the run status's (manifest
   * runs), else computed from the results read here.
   */
  labelFigures?: LabelFigures;
  /**
   * What each target index names, from the first result (a single output's target 0 is its
   * positive class).
   */
  targetNames?: string[];
  /** The run's several targets, as it asked for them. */
  targets?: StoredRun['record']['targets'];
  perOutcome: [Outcome, OutcomeStats][];
  /** What the results say was used (the run may have left it to the model card). */
  resolved: { layer?: string; align?: 'receptive-field' | 'resize' };
  /** Other runs over the same source this caller may see (to compare). */
  compareWith: { runId: string; model: string; createdAt: number }[];
  /** The browser link the page was opened with (kept on its links). */
  link?: string;
}

const OUTCOME_ORDER: Outcome[] = ['TP', 'FP', 'FN', 'TN', 'correct', 'wrong'];

/** Reads a run's results (up to the scan limit) and its audit, and shapes them for the report. */
export async function gatherReport(
  ctx: RouteContext,
  run: StoredRun,
  principal: Parameters<typeof canSeeRun>[0],
  opts: { galleryLimit?: number; link?: string } = {},
): Promise<ReportData> {
  const [status, audit] = await Promise.all([
    runStatus(ctx.redis, run),
    auditView(ctx.redis, ctx.store, run, ctx.reportUrlExpirySeconds),
  ]);
  const page = await scanResults(ctx.redis, run.record.runId, {
    limit: ctx.reportScanLimit,
    maxScan: ctx.reportScanLimit,
  });
  const completed: CompletedEvent[] = [];
  const failed: FailedEvent[] = [];
  for (const { event } of page.rows) {
    if (event.type === 'job.completed') completed.push(event);
    else failed.push(event);
  }
  const findings = (audit.findings ?? []) as Finding[];
  const cards: GalleryItem[] = completed.map((event) => ({
    event,
    regions: regionsOf(event, findings),
    outcome: outcomeOf(event),
  }));
  const score = (c: GalleryItem) => c.event.prediction.scores[c.event.prediction.target] ?? 0;
  // Relevance to the findings: the images that carry a region first (by region, then the most
  // confident), then the rest in completion order.
  const carriers = cards
    .filter((c) => c.regions.length > 0)
    .sort((a, b) => a.regions[0] - b.regions[0] || score(b) - score(a));
  const galleryLimit = opts.galleryLimit ?? ctx.reportGalleryLimit;
  const gallery = [...carriers, ...cards.filter((c) => c.regions.length === 0)].slice(
    0,
    galleryLimit,
  );
  const expiry = ctx.reportUrlExpirySeconds;
  await Promise.all(
    gallery.map(async (g) => {
      const e = g.event;
      const sign = (key: string) => ctx.store.presign(e.bucket, key, expiry).catch(() => undefined);
      [g.overlayUrl, g.resultUrl] = await Promise.all([
        sign(e.outputs.overlayKey),
        sign(e.outputs.resultKey),
      ]);
      if (e.cams) g.camUrls = await Promise.all(e.cams.map((c) => sign(c.overlayKey)));
    }),
  );
  const reasons = new Map<string, number>();
  for (const f of failed) reasons.set(f.error.reason, (reasons.get(f.error.reason) ?? 0) + 1);
  const first = completed[0];
  return {
    run: status,
    audit,
    generatedAt: Date.now(),
    scanned: page.scanned,
    truncated: page.next !== undefined,
    completed,
    failed,
    inRegion: carriers.length,
    failureReasons: [...reasons].sort((a, b) => b[1] - a[1]),
    gallery,
    galleryCandidates: cards.length,
    galleryLimit,
    evaluation: evaluate(completed),
    labelFigures:
      (status as { labelFigures?: LabelFigures }).labelFigures ?? labelFigures(completed),
    targetNames: first ? targetNames(first) : undefined,
    ...(run.record.targets !== undefined && { targets: run.record.targets }),
    perOutcome: outcomeStats(cards),
    resolved: {
      layer: first?.layer,
      align: first?.compactCam ? (first.compactCam.grid ? 'receptive-field' : 'resize') : undefined,
    },
    compareWith: await sameSourceRuns(ctx, run, principal),
    ...(opts.link && { link: opts.link }),
  };
}

/** Runs over the same bucket and prefix or manifest, newest first (a bounded scan). */
async function sameSourceRuns(
  ctx: RouteContext,
  run: StoredRun,
  principal: Parameters<typeof canSeeRun>[0],
): Promise<ReportData['compareWith']> {
  const src = run.record.source;
  const out: ReportData['compareWith'] = [];
  let scanned = 0;
  for await (const pos of scanZset(ctx.redis, redisKeys.runs, { reverse: true })) {
    if (++scanned > 300 || out.length >= 8) break;
    if (pos.member === run.record.runId) continue;
    const other = await loadRun(ctx.redis, pos.member);
    if (other?.record.kind !== 'run' || !canSeeRun(principal, other.record)) continue;
    const s = other.record.source;
    if (
      s.bucket === src.bucket &&
      s.prefix === src.prefix &&
      s.manifest === src.manifest &&
      !s.keys === !src.keys
    ) {
      out.push({
        runId: other.record.runId,
        model: other.record.model,
        createdAt: other.record.createdAt,
      });
    }
  }
  return out;
}

function outcomeStats(cards: GalleryItem[]): [Outcome, OutcomeStats][] {
  const groups = new Map<Outcome, GalleryItem[]>();
  for (const c of cards) {
    if (!c.outcome) continue;
    const g = groups.get(c.outcome);
    if (g) g.push(c);
    else groups.set(c.outcome, [c]);
  }
  return OUTCOME_ORDER.filter((o) => groups.has(o)).map((o) => {
    const g = groups.get(o) ?? [];
    const s = g.map((c) => c.event);
    return [
      o,
      {
        n: g.length,
        meanScore: mean(
          s.map((e) => e.prediction.scores[e.prediction.target] ?? e.prediction.scores[0]),
        ),
        meanBorderEnergy: mean(s.map((e) => e.stats.borderEnergy)),
        meanEntropy: mean(s.map((e) => e.stats.entropy)),
        inRegion: g.filter((c) => c.regions.length > 0).length,
      },
    ];
  });
}

function mean(values: (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

function targetNames(e: CompletedEvent): string[] {
  const names = classNames(e.prediction);
  return e.prediction.scores.length <= 1 ? names.slice(1) : names;
}
