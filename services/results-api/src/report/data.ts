import type { CompletedEvent, FailedEvent } from '@camflow/contracts';
import type { RouteContext } from '../context.js';
import { type Evaluation, evaluate, type Outcome, outcomeOf } from '../store/labels.js';
import { overlayUrls } from '../store/presign.js';
import { runStatus, type StoredRun, scanResults } from '../store/queries.js';
import { resultFlags } from '../store/result-view.js';
import type { RunView } from '../store/run-status.js';
import type { FlagReason } from './flags.js';

/** One gallery card. */
export interface GalleryItem {
  event: CompletedEvent;
  flags: FlagReason[];
  outcome?: Outcome;
  overlayUrl?: string;
}

/** Mean CAM statistics of the results with one outcome. */
export interface OutcomeStats {
  n: number;
  meanScore: number | null;
  meanBorderEnergy: number | null;
  meanEntropy: number | null;
  meanMaskEnergy: number | null;
  flagged: number;
}

/** Everything a report shows, gathered from Redis (and presigned) once. */
export interface ReportData {
  run: RunView;
  generatedAt: number;
  /** Results read for the statistics, and whether that was all of them. */
  scanned: number;
  truncated: boolean;
  completed: CompletedEvent[];
  failed: FailedEvent[];
  flagged: number;
  failureReasons: [string, number][];
  gallery: GalleryItem[];
  /** Cards there would be without the gallery limit. */
  galleryCandidates: number;
  galleryLimit: number;
  evaluation?: Evaluation;
  perOutcome: [Outcome, OutcomeStats][];
  flagOptions: RouteContext['flags'];
}

const OUTCOME_ORDER: Outcome[] = ['TP', 'FP', 'FN', 'TN', 'correct', 'wrong'];

/** Reads a run's results (up to the scan limit) and shapes them for the report. */
export async function gatherReport(
  ctx: RouteContext,
  run: StoredRun,
  opts: { galleryLimit?: number } = {},
): Promise<ReportData> {
  const status = await runStatus(ctx.redis, run);
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
  const cards = completed.map((event) => ({
    event,
    flags: resultFlags(event, ctx.flags),
    outcome: outcomeOf(event),
  }));
  const border = (c: GalleryItem) => c.event.stats.borderEnergy ?? 0;
  const flaggedCards = cards
    .filter((c) => c.flags.length > 0)
    .sort((a, b) => border(b) - border(a));
  const galleryLimit = opts.galleryLimit ?? ctx.reportGalleryLimit;
  const gallery: GalleryItem[] = [
    ...flaggedCards,
    ...cards.filter((c) => c.flags.length === 0),
  ].slice(0, galleryLimit);
  const urls = await overlayUrls(
    ctx.store,
    gallery.map((g) => g.event),
    ctx.reportUrlExpirySeconds,
  );
  gallery.forEach((g, i) => {
    g.overlayUrl = urls[i];
  });
  const reasons = new Map<string, number>();
  for (const f of failed) reasons.set(f.error.reason, (reasons.get(f.error.reason) ?? 0) + 1);
  return {
    run: status,
    generatedAt: Date.now(),
    scanned: page.scanned,
    truncated: page.next !== undefined,
    completed,
    failed,
    flagged: flaggedCards.length,
    failureReasons: [...reasons].sort((a, b) => b[1] - a[1]),
    gallery,
    galleryCandidates: cards.length,
    galleryLimit,
    evaluation: evaluate(completed),
    perOutcome: outcomeStats(cards),
    flagOptions: ctx.flags,
  };
}

function outcomeStats(cards: Omit<GalleryItem, 'overlayUrl'>[]): [Outcome, OutcomeStats][] {
  const groups = new Map<Outcome, Omit<GalleryItem, 'overlayUrl'>[]>();
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
        meanMaskEnergy: mean(s.map((e) => e.stats.maskEnergy)),
        flagged: g.filter((c) => c.flags.length > 0).length,
      },
    ];
  });
}

function mean(values: (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}
