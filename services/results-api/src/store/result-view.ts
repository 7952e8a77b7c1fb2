import type { CompletionEvent } from '@camflow/contracts';
import { type FlagOptions, type FlagReason, flagReasons } from '../report/flags.js';

/** The score a result is judged by: the explained target's score. */
export function targetScore(e: CompletionEvent): number | undefined {
  if (e.type !== 'job.completed') return undefined;
  const s = e.prediction.scores;
  return s[e.prediction.target] ?? s[0];
}

/** Flag reasons of a result (failed jobs are never flagged). */
export function resultFlags(e: CompletionEvent, opts: FlagOptions): FlagReason[] {
  return e.type === 'job.completed' ? flagReasons(e.stats, opts) : [];
}

/** Query filters of `GET /v1/runs/:runId/results`. */
export interface ResultFilter {
  predicted?: number;
  flagged?: boolean;
  minScore?: number;
  maxScore?: number;
  status?: 'completed' | 'failed';
}

/** A predicate for a filter; failed jobs only pass filters that say nothing about predictions. */
export function resultFilter(f: ResultFilter, flags: FlagOptions) {
  return (e: CompletionEvent): boolean => {
    const status = e.type === 'job.completed' ? 'completed' : 'failed';
    if (f.status !== undefined && f.status !== status) return false;
    if (f.flagged !== undefined && resultFlags(e, flags).length > 0 !== f.flagged) return false;
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

/** A result as the API lists it; `overlayUrl` is a short-lived presigned GET. */
export function resultView(e: CompletionEvent, flags: FlagOptions, overlayUrl?: string) {
  const common = {
    jobId: e.jobId,
    status: e.type === 'job.completed' ? ('completed' as const) : ('failed' as const),
    source: { bucket: e.source.bucket, key: e.source.key },
    model: e.model,
    layer: e.layer,
    method: e.method,
    label: e.label,
    submittedAt: e.submittedAt,
    finishedAt: e.finishedAt,
    attempts: e.attempts,
  };
  if (e.type === 'job.failed') return { ...common, error: e.error };
  const reasons = flagReasons(e.stats, flags);
  return {
    ...common,
    prediction: e.prediction,
    score: targetScore(e),
    outputs: { ...e.outputs, bucket: e.bucket },
    overlayUrl,
    image: e.image,
    stats: e.stats,
    flagged: reasons.length > 0,
    flags: reasons,
  };
}

export type ResultView = ReturnType<typeof resultView>;
