/**
 * Creates the runs of a folder-labelled source (one per split), watches them together and sums
 * them up per split: accuracy from each run's counters, the audit's verdict (or why there is
 * none), report links and one compare link across the splits.
 */
import { createHash } from 'node:crypto';
import type { AuditDocument } from '@camflow/contracts';
import { looksLikeImage } from '@camflow/ingest';
import type { ApiClient } from '../api-client.js';
import { browserLink, waitForAudit } from '../commands/runs.js';
import { ProgressBar } from '../progress.js';
import { type SplitRun, splitLabel } from './folder-source.js';

/** The body fields every split's run shares (model, settings, labels). */
export type RunBase = Record<string, unknown> & { model: string };

export interface CreatedRun extends SplitRun {
  label: string;
  runId: string;
  /** The run already existed (the same request, over the same content, was made before). */
  existing: boolean;
}

/**
 * The Idempotency-Key of a split's run: a hash of the request and of every image under the
 * split with its content hash (MD5: a local file's, or the ETag of a plain PUT), so the same command over the same files finds its runs again and
 * any changed, added or removed image makes a new run.
 */
export function runKey(body: unknown, prefix: string, etags: Map<string, string>): string {
  const h = createHash('sha256').update(JSON.stringify(body));
  // Only what ingest will explain, so a local folder and its bucket copy give the same key.
  const keys = [...etags.keys()].filter((k) => k.startsWith(prefix) && looksLikeImage(k)).sort();
  for (const k of keys) h.update(`\n${k}\t${etags.get(k)}`);
  return `camflow-folder-${h.digest('hex').slice(0, 48)}`;
}

export async function createSplitRuns(
  api: ApiClient,
  bucket: string,
  runs: SplitRun[],
  base: RunBase,
  etags: Map<string, string>,
): Promise<CreatedRun[]> {
  const out: CreatedRun[] = [];
  for (const r of runs) {
    const body = { ...base, source: { bucket, prefix: r.prefix } };
    const res = await api.request<{ runId: string; existing?: boolean }>(
      'ingest',
      'POST',
      '/v1/runs',
      body,
      { 'idempotency-key': runKey(body, r.prefix, etags) },
    );
    out.push({
      ...r,
      label: splitLabel(r, runs),
      runId: res.runId,
      existing: res.existing === true,
    });
  }
  return out;
}

interface Status {
  runId: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  throughput: number | null;
  error: string | null;
  splits?: { split: string | null; labelled: number; correct: number; accuracy: number | null }[];
  layout?: { warnings: string[] };
}

/** Polls the runs until all have ended, with one progress bar over them. */
export async function watchRuns(api: ApiClient, runs: CreatedRun[], intervalMs = 500) {
  const bar = new ProgressBar(runs.length > 1 ? `${runs.length} runs` : 'run');
  for (;;) {
    const all = await Promise.all(
      runs.map((r) =>
        api.request<Status>('results', 'GET', `/v1/runs/${encodeURIComponent(r.runId)}`),
      ),
    );
    const done = all.reduce((a, s) => a + s.completed + s.failed, 0);
    const total = all.reduce((a, s) => a + s.total, 0);
    const failed = all.reduce((a, s) => a + s.failed, 0);
    bar.update(done, total, failed ? `(${failed} failed)` : '');
    if (all.every((s) => s.status === 'completed' || s.status === 'failed')) {
      bar.done();
      return all;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface SplitOutcome {
  split: string;
  runId: string;
  status: string;
  images: number;
  completed: number;
  failed: number;
  labelled: number;
  accuracy: number | null;
  audit: { verdict: string; summary?: string } | { verdict: null; message: string };
  report?: string;
}

/** Waits for each run's audit (or learns why it has none) and gathers the per-split figures. */
export async function splitOutcomes(
  api: ApiClient,
  runs: CreatedRun[],
  finals: Status[],
): Promise<SplitOutcome[]> {
  const out: SplitOutcome[] = [];
  for (const [i, r] of runs.entries()) {
    const s = finals[i];
    const figures = s.splits ?? [];
    const labelled = figures.reduce((a, f) => a + f.labelled, 0);
    const correct = figures.reduce((a, f) => a + f.correct, 0);
    let audit: SplitOutcome['audit'];
    if (s.status !== 'completed') audit = { verdict: null, message: `run ${s.status}` };
    else {
      const doc = (await waitForAudit(api, r.runId)) as
        | (AuditDocument & { status?: string; error?: string })
        | undefined;
      if (doc && doc.status !== 'failed') audit = { verdict: doc.verdict, summary: doc.summary };
      else if (doc)
        audit = { verdict: null, message: `audit failed: ${doc.error ?? 'unknown reason'}` };
      else {
        const a = await api.request<{ message?: string }>(
          'results',
          'GET',
          `/v1/runs/${encodeURIComponent(r.runId)}/audit`,
        );
        audit = { verdict: null, message: a.message ?? 'not audited' };
      }
    }
    out.push({
      split: r.label,
      runId: r.runId,
      status: s.status,
      images: s.total,
      completed: s.completed,
      failed: s.failed,
      labelled,
      accuracy: labelled ? correct / labelled : null,
      audit,
    });
  }
  return out;
}

/** Browser links: each split's report, and the splits side by side (2 to 4 runs). */
export async function splitLinks(api: ApiClient, outcomes: SplitOutcome[], hours = 24) {
  const ids = outcomes.map((o) => o.runId);
  for (const o of outcomes)
    o.report = (
      await browserLink(
        api,
        o.runId,
        hours * 3600,
        ids.filter((i) => i !== o.runId),
      )
    ).url;
  if (ids.length < 2 || ids.length > 4) return { compare: undefined };
  const link = await browserLink(api, ids[0], hours * 3600, ids.slice(1));
  const q = new URL(link.url).searchParams.get('link') ?? '';
  return {
    compare: `${api.resultsUrl}/v1/compare?runs=${encodeURIComponent(ids.join(','))}&link=${encodeURIComponent(q)}`,
  };
}

const pct = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(1)}%`);

/** The per-split table and the links, as a person reads them. */
export function formatOutcomes(outcomes: SplitOutcome[], compare?: string): string {
  const w = Math.max(5, ...outcomes.map((o) => o.split.length));
  const lines = [
    `${'split'.padEnd(w)}  images  failed  accuracy  audit`,
    ...outcomes.map((o) => {
      const a =
        o.audit.verdict === null
          ? o.audit.message
          : `${o.audit.verdict}${o.audit.summary ? `: ${o.audit.summary}` : ''}`;
      return `${o.split.padEnd(w)}  ${String(o.images).padStart(6)}  ${String(o.failed).padStart(6)}  ${pct(o.accuracy).padStart(8)}  ${a}`;
    }),
  ];
  for (const o of outcomes) if (o.report) lines.push(`report ${o.split}: ${o.report}`);
  if (compare) lines.push(`compare the splits: ${compare}`);
  return `${lines.join('\n')}\n`;
}
