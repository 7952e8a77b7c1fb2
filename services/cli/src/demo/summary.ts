import type { AuditDocument } from '@camflow/contracts';
import type { ApiClient } from '../api-client.js';
import type { Evaluation } from '../evaluation.js';

interface ResultItem {
  status: 'completed' | 'failed';
  label?: number | string;
  prediction?: { predicted: number };
  flagged?: boolean;
}

export interface RunSummary {
  model: string;
  runId: string;
  images: number;
  failed: number;
  accuracy: number;
  /** Share of explained images whose CAM peaks in a region of the audit's findings. */
  inRegion: number;
  audit?: AuditDocument;
}

/** Reads every result of a run (paging) and sums up what an auditor looks at first. */
export async function summariseRun(
  api: ApiClient,
  model: string,
  runId: string,
  audit?: AuditDocument,
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
  return {
    model,
    runId,
    images: items.length,
    failed: items.length - done.length,
    accuracy: labelled.length > 0 ? correct / labelled.length : Number.NaN,
    inRegion: done.length > 0 ? done.filter((i) => i.flagged).length / done.length : 0,
    audit,
  };
}

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(0)}%`);

/** The closing table: per run, accuracy, the audit's verdict and where its findings are. */
export function formatSummaries(rows: RunSummary[]): string {
  return [
    'pipeline audits   images  accuracy  verdict              findings',
    ...rows.map((r) => {
      const f = r.audit?.findings ?? [];
      const where = f.length
        ? `${f.length} (${[...new Set(f.map((x) => x.place))].join(', ')}; ${pct(r.inRegion)} of images)`
        : '-';
      return `${r.model.padEnd(17)} ${String(r.images).padStart(6)}  ${pct(r.accuracy).padStart(8)}  ${(r.audit?.verdict ?? 'not audited').padEnd(19)}  ${where}`;
    }),
  ].join('\n');
}

/** The compare page's figure in one line. */
export function formatDisagreement(
  c: { common: number; disagree: number | null; threshold: number },
  models: string[],
): string {
  if (c.common === 0 || c.disagree === null) return '';
  return `${models.join(' and ')} put their CAM peaks more than ${pct(c.threshold)} of the image apart on ${pct(c.disagree)} of the ${c.common} images both explained.`;
}

/**
 * The cross-check only phantoms allow: with the lesion and marker masks, which model's CAM sits
 * on the hospital marker rather than on the lesions. Says so only when the figures differ clearly.
 */
export function maskCrossCheck(audits: { model: string; e: Evaluation }[]): string {
  if (audits.length < 2) return '';
  const byMarker = [...audits].sort((a, b) => b.e.markerEnergy - a.e.markerEnergy);
  const [worst, best] = [byMarker[0], byMarker[byMarker.length - 1]];
  const ratio = worst.e.markerEnergy / Math.max(best.e.markerEnergy, 1e-6);
  if (!(ratio >= 3) || !(worst.e.pointingGame.rate < best.e.pointingGame.rate)) {
    return "ground truth (masks): the two models' CAMs do not differ clearly on this data.";
  }
  return [
    `ground truth (the phantoms' masks, which real data lacks): ${worst.model} puts ${ratio.toFixed(0)}x more CAM energy on the`,
    `marker than ${best.model} (${worst.e.markerEnergy.toFixed(3)} vs ${best.e.markerEnergy.toFixed(3)}), and its CAM peak lands inside the lesion on`,
    `${pct(worst.e.pointingGame.rate)} of pneumonia images against ${pct(best.e.pointingGame.rate)}.`,
  ].join('\n');
}
