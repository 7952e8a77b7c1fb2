import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import type { AuditDocument } from '@camflow/contracts';
import { ApiClient } from '../api-client.js';
import { oneOf, positiveInt, positiveNumber, usage } from '../args.js';
import { formatAudit } from '../audit/text.js';
import { ProgressBar } from '../progress.js';
import { saveReport } from '../report-files.js';
import { UsageError } from '../usage.js';
import { createFolderRuns } from './runs-folder.js';

interface RunStatus {
  runId: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  listingDone?: boolean;
  /** Why the run failed as a whole (a missing bucket, an unreadable manifest). */
  error?: string | null;
  source?: { bucket: string; prefix?: string; manifest?: string };
}

/** `camflow runs create|status|results|report`: the operator's view, over the HTTP API. */
export async function runsCommand(argv: string[], config: Config): Promise<number> {
  const [sub, ...rest] = argv;
  const api = ApiClient.fromConfig(config);
  switch (sub) {
    case 'create':
      return create(api, rest, config);
    case 'status':
      return status(api, rest);
    case 'results':
      return results(api, rest);
    case 'report':
      return report(api, rest);
    case 'audit':
      return audit(api, rest);
    default:
      throw new UsageError('usage: camflow runs create|status|results|report|audit ...');
  }
}

/** `s3://bucket/prefix` -> { bucket, prefix }. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new UsageError(`expected s3://<bucket>/<prefix>, got "${url}"`);
  return { bucket: m[1], prefix: m[2] };
}

async function create(api: ApiClient, argv: string[], config: Config): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        layer: { type: 'string' },
        method: { type: 'string' },
        target: { type: 'string' },
        align: { type: 'string' },
        manifest: { type: 'string' },
        priority: { type: 'string' },
        audit: { type: 'boolean' },
        'no-audit': { type: 'boolean' },
        labels: { type: 'string' },
        classes: { type: 'string' },
        to: { type: 'string' },
        watch: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length !== 1)
    throw new UsageError(
      'usage: camflow runs create s3://<bucket>/<prefix>|<dir> --model <name>@<version>',
    );
  if (!values.model) throw new UsageError('--model <name>@<version> is required');
  const target =
    values.target === undefined || values.target === 'predicted'
      ? undefined
      : Number(values.target);
  const settings = {
    ...(values.layer ? { layer: values.layer } : {}),
    ...(values.method ? { method: values.method } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(values.align ? { align: values.align } : {}),
    ...(values.priority ? { priority: values.priority } : {}),
    ...(values.audit ? { audit: true } : values['no-audit'] ? { audit: false } : {}),
  };
  const labels =
    values.labels !== undefined && oneOf(values.labels, 'labels', ['folder'], 'folder');
  const local = !positionals[0].startsWith('s3://');
  if (local || labels) {
    if (values.manifest)
      throw new UsageError('--manifest is for an s3:// source without --labels folder');
    return createFolderRuns(api, config, {
      source: positionals[0],
      to: values.to,
      labels: labels === 'folder',
      classes: values.classes,
      base: { model: values.model, ...settings },
      watch: values.watch,
      json: values.json,
    });
  }
  if (values.classes) throw new UsageError('--classes needs --labels folder');
  if (values.to) throw new UsageError('--to is for a local folder');
  const { bucket, prefix } = parseS3Url(positionals[0]);
  const body = {
    model: values.model,
    source: values.manifest ? { bucket, manifest: values.manifest } : { bucket, prefix },
    ...settings,
  };
  const { runId } = await api.request<{ runId: string }>('ingest', 'POST', '/v1/runs', body);
  if (!values.watch) {
    process.stdout.write(values.json ? `${JSON.stringify({ runId })}\n` : `${runId}\n`);
    return 0;
  }
  process.stderr.write(`run ${runId}\n`);
  const final = await watch(api, runId);
  process.stdout.write(values.json ? `${JSON.stringify(final)}\n` : `${summaryLine(final)}\n`);
  warnEmpty(final);
  if (final.status === 'completed' && !values.json) {
    const a = await waitForAudit(api, runId);
    if (a) process.stdout.write(formatAudit(a));
  }
  return final.status === 'failed' ? 1 : 0;
}

/** Polls a run until it ends, drawing a progress bar. */
export async function watch(
  api: ApiClient,
  runId: string,
  label = 'run',
  intervalMs = 500,
): Promise<RunStatus> {
  const bar = new ProgressBar(label);
  for (;;) {
    const s = await api.request<RunStatus>(
      'results',
      'GET',
      `/v1/runs/${encodeURIComponent(runId)}`,
    );
    bar.update(s.completed + s.failed, s.total, s.failed > 0 ? `(${s.failed} failed)` : '');
    if (s.status === 'completed' || s.status === 'failed') {
      bar.done();
      return s;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function summaryLine(s: RunStatus): string {
  const line = `run ${s.runId}: ${s.status}, ${s.completed} completed, ${s.failed} failed of ${s.total}`;
  return s.error ? `${line}: ${s.error}` : line;
}

/** A run that completed with nothing in it most likely named the wrong prefix: say so. */
function warnEmpty(s: RunStatus): void {
  if (s.status !== 'completed' || s.total > 0) return;
  const where = s.source
    ? s.source.manifest
      ? ` in the manifest s3://${s.source.bucket}/${s.source.manifest}`
      : ` under s3://${s.source.bucket}/${s.source.prefix ?? ''}`
    : '';
  process.stderr.write(`camflow: warning: run ${s.runId} found no images${where}\n`);
}

async function status(api: ApiClient, argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    }),
  );
  if (positionals.length !== 1) throw new UsageError('usage: camflow runs status <runId>');
  const s = await api.request<RunStatus>(
    'results',
    'GET',
    `/v1/runs/${encodeURIComponent(positionals[0])}`,
  );
  process.stdout.write(values.json ? `${JSON.stringify(s)}\n` : `${summaryLine(s)}\n`);
  warnEmpty(s);
  return 0;
}

async function results(api: ApiClient, argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        limit: { type: 'string' },
        cursor: { type: 'string' },
        status: { type: 'string' },
        flagged: { type: 'boolean' },
        'no-flagged': { type: 'boolean' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length !== 1)
    throw new UsageError(
      'usage: camflow runs results <runId> [--status completed|failed] [--flagged|--no-flagged] [--limit N] [--cursor C]',
    );
  const limit = positiveInt(values.limit, 'limit', 50);
  if (values.flagged && values['no-flagged'])
    throw new UsageError('--flagged and --no-flagged exclude each other');
  const status =
    values.status === undefined
      ? undefined
      : oneOf(values.status, 'status', ['completed', 'failed'] as const, 'completed');
  // The API's filters: a page may then hold fewer than --limit items; follow --cursor.
  const q = new URLSearchParams({
    limit: String(limit),
    ...(values.cursor ? { cursor: values.cursor } : {}),
    ...(status ? { status } : {}),
    ...(values.flagged ? { flagged: 'true' } : values['no-flagged'] ? { flagged: 'false' } : {}),
  });
  const text = await api.requestText(
    'results',
    'GET',
    `/v1/runs/${encodeURIComponent(positionals[0])}/results?${q}`,
  );
  if (values.json) {
    process.stdout.write(`${text.trim()}\n`);
    return 0;
  }
  const page = JSON.parse(text) as {
    items: {
      source: { bucket: string; key: string };
      status?: string;
      prediction?: { target: number; scores: number[] };
      error?: { reason: string };
    }[];
    nextCursor?: string;
  };
  for (const it of page.items) {
    const what = it.prediction
      ? `target ${it.prediction.target} scores [${it.prediction.scores.map((s) => s.toFixed(3)).join(', ')}]`
      : `failed: ${it.error?.reason ?? 'unknown'}`;
    process.stdout.write(`s3://${it.source.bucket}/${it.source.key}  ${what}\n`);
  }
  if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
  return 0;
}

async function report(api: ApiClient, argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, expires: { type: 'string' } },
    }),
  );
  if (positionals.length !== 1)
    throw new UsageError(
      'usage: camflow runs report <runId> [--out report.html] [--expires <hours>]',
    );
  const runId = positionals[0];
  if (values.out) {
    const saved = await saveReport(api, runId, values.out);
    process.stdout.write(`wrote ${values.out} (${saved.images} images in ${saved.folder})\n`);
    return 0;
  }
  const hours = positiveNumber(values.expires, 'expires', 24);
  const link = await browserLink(api, runId, Math.round(hours * 3600));
  process.stdout.write(`${link.url}\n`);
  process.stderr.write(`(a read-only link to this run's report, valid until ${link.expiresAt})\n`);
  return 0;
}

/** A signed read-only link to a run's report (and its comparisons with `also`). */
export async function browserLink(
  api: ApiClient,
  runId: string,
  expiresIn = 24 * 3600,
  also: string[] = [],
) {
  const link = await api.request<{ path: string; expiresAt: string }>(
    'results',
    'POST',
    `/v1/runs/${encodeURIComponent(runId)}/links`,
    { expiresIn, ...(also.length ? { runs: also } : {}) },
  );
  return { url: `${api.resultsUrl}${link.path}`, expiresAt: link.expiresAt };
}

/** `camflow runs audit <runId> [--json] [--wait]`: the run's audit verdict and findings. */
async function audit(api: ApiClient, argv: string[]): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length !== 1)
    throw new UsageError('usage: camflow runs audit <runId> [--json] [--wait]');
  const runId = positionals[0];
  const path = `/v1/runs/${encodeURIComponent(runId)}/audit`;
  const doc = values.wait
    ? ((await waitForAudit(api, runId)) ?? (await api.request<AuditAnswer>('results', 'GET', path)))
    : await api.request<AuditAnswer>('results', 'GET', path);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(doc)}\n`);
    return 0;
  }
  if (doc.status === 'done') process.stdout.write(formatAudit(doc as unknown as AuditDocument));
  else
    process.stdout.write(
      `audit of ${runId}: ${doc.status}${doc.stage ? ` (${doc.stage})` : ''}${doc.message ? `: ${doc.message}` : ''}${doc.error ? `: ${doc.error}` : ''}\n`,
    );
  return doc.status === 'failed' ? 1 : 0;
}

interface AuditAnswer {
  status: string;
  stage?: string;
  message?: string;
  error?: string;
  requested?: boolean;
  [k: string]: unknown;
}

/**
 * Waits for a run's audit to finish (with a progress line); undefined when the run is not
 * audited. Returns the document (or its failed state).
 */
export async function waitForAudit(
  api: ApiClient,
  runId: string,
  intervalMs = 500,
): Promise<AuditDocument | undefined> {
  const path = `/v1/runs/${encodeURIComponent(runId)}/audit`;
  const bar = new ProgressBar('audit');
  for (;;) {
    const a = await api.request<AuditAnswer>('results', 'GET', path);
    if (a.requested === false) return undefined;
    const p = a.progress as { chunks: number; done: number } | undefined;
    if (p) bar.update(p.done, p.chunks, String(a.stage ?? ''));
    if (a.status === 'done' || a.status === 'failed') {
      if (p) bar.done();
      if (a.status === 'failed')
        process.stderr.write(
          `camflow: the audit of ${runId} failed: ${a.error ?? 'unknown reason'}\n`,
        );
      return a as unknown as AuditDocument;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
