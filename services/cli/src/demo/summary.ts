import type { ApiClient } from '../api-client.js';

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

/** The closing table and verdict. */
export function formatSummaries(rows: RunSummary[]): string {
  const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const lines = [
    'model              images  accuracy  flagged  mean border energy',
    ...rows.map(
      (r) =>
        `${r.model.padEnd(18)} ${String(r.images).padStart(6)}  ${pct(r.accuracy).padStart(8)}  ${pct(r.flagged).padStart(7)}  ${r.meanBorderEnergy.toFixed(3).padStart(18)}`,
    ),
  ];
  const worst = [...rows].sort((a, b) => b.flagged - a.flagged)[0];
  const best = [...rows].sort((a, b) => a.flagged - b.flagged)[0];
  if (rows.length > 1 && worst.flagged > best.flagged) {
    lines.push(
      '',
      `${worst.model} is flagged on ${pct(worst.flagged)} of images: its Grad-CAM heat sits in the border band, ` +
        'where the hospital marker is, not on the lungs.',
      `${best.model} is flagged on ${pct(best.flagged)}: it looks at the lungs.`,
    );
  }
  return lines.join('\n');
}
