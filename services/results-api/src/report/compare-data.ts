import { camPeak } from '@camflow/audit';
import type { CompletedEvent, Principal } from '@camflow/contracts';
import type { RouteContext } from '../context.js';
import { type AuditView, auditView } from '../store/audit.js';
import { type Evaluation, evaluate } from '../store/labels.js';
import { runStatus, scanResults, visibleRun } from '../store/queries.js';
import type { RunView } from '../store/run-status.js';

export interface ComparedRun {
  run: RunView;
  audit: AuditView;
  evaluation?: Evaluation;
  explained: number;
}

export interface Disagreement {
  key: string;
  distance: number;
  overlayUrls: (string | undefined)[];
}

export interface CompareData {
  runs: ComparedRun[];
  /** Images (bucket/key) every run explained. */
  common: number;
  /** Share of them where some two runs' CAM peaks lie more than `threshold` apart. */
  disagree: number | null;
  meanDistance: number | null;
  threshold: number;
  examples: Disagreement[];
  generatedAt: number;
  link?: string;
}

/** Peak distance (as a share of the image side) above which two runs look at different places. */
const APART = 0.1;

/** The runs side by side: verdicts, atlases, accuracy, and where their CAM peaks disagree. */
export async function gatherCompare(
  ctx: RouteContext,
  principal: Principal,
  runIds: string[],
  link?: string,
): Promise<CompareData | { missing: string }> {
  const runs: ComparedRun[] = [];
  const peaks: Map<string, { peak: [number, number]; event: CompletedEvent }>[] = [];
  for (const id of runIds) {
    const run = await visibleRun(ctx.redis, principal, id);
    if (!run) return { missing: id };
    const page = await scanResults(ctx.redis, id, {
      limit: ctx.reportScanLimit,
      maxScan: ctx.reportScanLimit,
    });
    const completed = page.rows
      .map((r) => r.event)
      .filter((e): e is CompletedEvent => e.type === 'job.completed');
    const byKey = new Map<string, { peak: [number, number]; event: CompletedEvent }>();
    for (const e of completed) {
      const cam = e.compactCam;
      const p = cam && camPeak(cam);
      if (cam && p)
        byKey.set(`${e.source.bucket}/${e.source.key}`, {
          peak: [p[0] / cam.input.width, p[1] / cam.input.height],
          event: e,
        });
    }
    peaks.push(byKey);
    runs.push({
      run: await runStatus(ctx.redis, run),
      audit: await auditView(ctx.redis, ctx.store, run, ctx.reportUrlExpirySeconds),
      evaluation: evaluate(completed),
      explained: completed.length,
    });
  }
  const common = [...peaks[0].keys()].filter((k) => peaks.every((m) => m.has(k)));
  const distances = common.map((k) => {
    let worst = 0;
    for (let i = 0; i < peaks.length; i++)
      for (let j = i + 1; j < peaks.length; j++) {
        const a = peaks[i].get(k)!.peak;
        const b = peaks[j].get(k)!.peak;
        worst = Math.max(worst, Math.hypot(a[0] - b[0], a[1] - b[1]));
      }
    return { key: k, distance: worst };
  });
  const worst = [...distances]
    .sort((a, b) => b.distance - a.distance)
    .filter((d) => d.distance > APART)
    .slice(0, 8);
  const examples: Disagreement[] = await Promise.all(
    worst.map(async (d) => ({
      ...d,
      overlayUrls: await Promise.all(
        peaks.map((m) => {
          const e = m.get(d.key)!.event;
          return ctx.store
            .presign(e.bucket, e.outputs.overlayKey, ctx.reportUrlExpirySeconds)
            .catch(() => undefined);
        }),
      ),
    })),
  );
  const n = distances.length;
  return {
    runs,
    common: n,
    disagree: n ? distances.filter((d) => d.distance > APART).length / n : null,
    meanDistance: n ? distances.reduce((a, d) => a + d.distance, 0) / n : null,
    threshold: APART,
    examples,
    generatedAt: Date.now(),
    ...(link && { link }),
  };
}

/** The comparison as JSON (`Accept: application/json`): what the page shows, without images. */
export function compareSummary(d: CompareData) {
  return {
    runs: d.runs.map((r) => ({
      runId: r.run.runId,
      model: r.run.model,
      status: r.audit.status,
      verdict: r.audit.verdict,
      summary: r.audit.summary ?? null,
      findings: (
        (r.audit.findings ?? []) as {
          class: number;
          className?: string;
          place?: string;
          imageShare: number;
        }[]
      ).map((f) => ({
        class: f.class,
        className: f.className,
        place: f.place,
        imageShare: f.imageShare,
      })),
      explained: r.explained,
      accuracy: r.evaluation?.accuracy ?? null,
    })),
    common: d.common,
    disagree: d.disagree,
    meanDistance: d.meanDistance,
    threshold: d.threshold,
  };
}
