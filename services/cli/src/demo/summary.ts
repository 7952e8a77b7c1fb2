import type { ApiClient } from '../api-client.js';
import type { Evaluation } from '../evaluation.js';

interface ResultItem {
  status: 'completed' | 'failed';
  label?: number | string;
  prediction?: { predicted: number };
  flagged?: boolean;
  stats?: { borderEnergy?: number | null };
}

export interface RunSummary {
  model: string;
  runId: string;
  images: number;
  failed: number;
  accuracy: number;
  flagged: number;
  meanBorderEnergy: number;
}

/** Reads every result of a run (paging) and sums up what an auditor looks at first. */
export async function summariseRun(
  api: ApiClient,
  model: string,
  runId: string,
): Promise<RunSummary> {
  const items: ResultItem[] = [];
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
    const page = await api.request<{ items: ResultItem[]; nextCursor?: string | null }>(
      'results',
      'GET',
      `/v1/runs/${encodeURIComponent(runId)}/results?${q}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const done = items.filter((i) => i.status === 'completed');
  const labelled = done.filter((i) => i.label !== undefined && i.prediction);
  const correct = labelled.filter((i) => Number(i.label) === i.prediction?.predicted).length;
  const border = done
    .map((i) => i.stats?.borderEnergy)
    .filter((x): x is number => typeof x === 'number');
  return {
    model,
    runId,
    images: items.length,
    failed: items.length - done.length,
    accuracy: labelled.length > 0 ? correct / labelled.length : Number.NaN,
    flagged: done.length > 0 ? done.filter((i) => i.flagged).length / done.length : 0,
    meanBorderEnergy:
      border.length > 0 ? border.reduce((a, b) => a + b, 0) / border.length : Number.NaN,
  };
}

/** The closing table of what the pipeline's results say per run. */
export function formatSummaries(rows: RunSummary[]): string {
  const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  return [
    'pipeline results   images  accuracy  flagged  mean border energy',
    ...rows.map(
      (r) =>
        `${r.model.padEnd(18)} ${String(r.images).padStart(6)}  ${pct(r.accuracy).padStart(8)}  ${pct(r.flagged).padStart(7)}  ${r.meanBorderEnergy.toFixed(3).padStart(18)}`,
    ),
  ].join('\n');
}

/**
 * What the audit shows, from the ground-truth masks: which model's CAM sits on the hospital
 * marker rather than on the lesions. Says so only when the figures differ clearly.
 */
export function auditVerdict(audits: { model: string; e: Evaluation }[]): string {
  if (audits.length < 2) return '';
  const byMarker = [...audits].sort((a, b) => b.e.markerEnergy - a.e.markerEnergy);
  const [worst, best] = [byMarker[0], byMarker[byMarker.length - 1]];
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const ratio = worst.e.markerEnergy / Math.max(best.e.markerEnergy, 1e-6);
  if (!(ratio >= 3) || !(worst.e.pointingGame.rate < best.e.pointingGame.rate)) {
    return "verdict: the two models' CAMs do not differ clearly on this data; see the reports.";
  }
  return [
    `verdict: ${worst.model} puts ${ratio.toFixed(0)}x more CAM energy on the hospital marker than ${best.model}`,
    `(${worst.e.markerEnergy.toFixed(3)} vs ${best.e.markerEnergy.toFixed(3)}), and its CAM peak lands inside the lesion on`,
    `${pct(worst.e.pointingGame.rate)} of pneumonia images against ${pct(best.e.pointingGame.rate)}: it learned the marker, not the lungs.`,
  ].join('\n');
}
