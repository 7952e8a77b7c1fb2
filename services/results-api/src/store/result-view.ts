import { camPeak } from '@camflow/audit';
import type { CompletedEvent, CompletionEvent, Finding } from '@camflow/contracts';

/** The score a result is judged by: the explained target's score. */
export function targetScore(e: CompletionEvent): number | undefined {
  if (e.type !== 'job.completed') return undefined;
  const s = e.prediction.scores;
  return s[e.prediction.target] ?? s[0];
}

/**
 * The audit findings whose region holds this image's CAM peak, for the class its CAM explains
 * and it was predicted as: the image "carries" them. This is what `flagged` means (the border
 * energy stays a statistic: it did not separate the reference models).
 */
export function regionsOf(e: CompletionEvent, findings: readonly Finding[] | undefined): number[] {
  if (e.type !== 'job.completed' || !findings?.length) return [];
  const cam = (e as CompletedEvent).compactCam;
  const peak = cam && camPeak(cam);
  if (!cam || !peak) return [];
  const cls = e.prediction.scores.length === 1 ? e.prediction.predicted : e.prediction.target;
  if (e.prediction.predicted !== cls) return [];
  const x = peak[0] / cam.input.width;
  const y = peak[1] / cam.input.height;
  const out: number[] = [];
  findings.forEach((f, k) => {
    const b = f.box;
    if (f.class === cls && x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height)
      out.push(k);
  });
  return out;
}

/** Query filters of `GET /v1/runs/:runId/results`. */
export interface ResultFilter {
  predicted?: number;
  flagged?: boolean;
  minScore?: number;
  maxScore?: number;
  status?: 'completed' | 'failed';
  /** DICOM sources: only results of this StudyInstanceUID. */
  study?: string;
  /** Folder-labelled runs: only results of this split. */
  split?: string;
}

/** A predicate for a filter; failed jobs only pass filters that say nothing about predictions. */
export function resultFilter(f: ResultFilter, findings?: readonly Finding[]) {
  return (e: CompletionEvent): boolean => {
    const status = e.type === 'job.completed' ? 'completed' : 'failed';
    if (f.status !== undefined && f.status !== status) return false;
    if (f.study !== undefined && e.source.dicom?.studyInstanceUID !== f.study) return false;
    if (f.split !== undefined && e.split !== f.split) return false;
    if (f.flagged !== undefined && regionsOf(e, findings).length > 0 !== f.flagged) return false;
    if (f.predicted !== undefined || f.minScore !== undefined || f.maxScore !== undefined) {
      if (e.type !== 'job.completed') return false;
      if (f.predicted !== undefined && e.prediction.predicted !== f.predicted) return false;
      const score = targetScore(e);
      if (f.minScore !== undefined && !(score !== undefined && score >= f.minScore)) return false;
      if (f.maxScore !== undefined && !(score !== undefined && score <= f.maxScore)) return false;
    }
    return true;
  };
}

/**
 * A result as the API lists it; `overlayUrl` is a short-lived presigned GET; `findings` are its
 * run's audit findings (run-scoped listings), which decide `flagged`.
 */
export function resultView(e: CompletionEvent, overlayUrl?: string, findings?: readonly Finding[]) {
  const common = {
    jobId: e.jobId,
    status: e.type === 'job.completed' ? ('completed' as const) : ('failed' as const),
    // DICOM sources keep their UIDs (never patient data) so a PACS-side tool can match them.
    source: {
      bucket: e.source.bucket,
      key: e.source.key,
      ...(e.source.dicom && { dicom: e.source.dicom }),
    },
    model: e.model,
    layer: e.layer,
    method: e.method,
    label: e.label,
    ...(e.labels !== undefined && { labels: e.labels }),
    ...(e.split !== undefined && { split: e.split }),
    submittedAt: e.submittedAt,
    finishedAt: e.finishedAt,
    attempts: e.attempts,
  };
  if (e.type === 'job.failed') return { ...common, error: e.error };
  const regions = regionsOf(e, findings);
  return {
    ...common,
    prediction: e.prediction,
    score: targetScore(e),
    outputs: { ...e.outputs, bucket: e.bucket },
    overlayUrl,
    image: e.image,
    stats: e.stats,
    // Several targets: each CAM's class, own score, outputs and statistics (not the compact map).
    ...(e.cams && { cams: e.cams.map(({ compactCam: _, ...cam }) => cam) }),
    ...(e.emptyCam && { emptyCam: e.emptyCam }),
    flagged: regions.length > 0,
    flags: regions.map((k) => `finding-${k + 1}`),
  };
}

export type ResultView = ReturnType<typeof resultView>;
