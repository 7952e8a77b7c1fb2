// One real pipeline per test file: redis-server + s3rver + `camflow serve ingest|results|worker`
// as processes (their output kept in a log file per service), with small HTTP helpers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedCardJson } from '@camflow/imaging';
import { pushModel as pushModelFiles } from '@camflow/ingest';
import { freePort } from '@camflow/storage';
import {
  CAMFLOW_BIN,
  type ServiceProcess,
  startServiceProcess,
  waitForHttp,
} from '../../../services/cli/src/demo/service-process.js';
import { startTestServices, type TestServices } from '../../support/services.js';

/** The seed X-ray classifier export (256x256, one sigmoid output). */
export const XRAY_ONNX = join(import.meta.dirname, '../../fixtures/goldens/xray/model.onnx');

type Service = 'ingest' | 'results' | 'worker';

export interface Pipeline {
  svc: TestServices;
  ingest: string;
  results: string;
  /** The worker's health and metrics listener. */
  worker: string;
  procs: ServiceProcess[];
  /** Everything each service process wrote to stdout and stderr so far. */
  logs(): Record<Service, string>;
  /** The three /healthz answers (200 each while every process is alive). */
  health(): Promise<Record<Service, number>>;
  /** Stops the processes (SIGTERM) and the servers; returns the exit codes. */
  close(): Promise<(number | null)[]>;
}

export interface PipelineOptions {
  tokens: Record<string, { scopes: string[]; buckets: string[] }>;
  rules?: unknown[];
  /** Extra environment for the service processes (LOG_LEVEL defaults to warn). */
  env?: Record<string, string>;
}

/** Starts the servers and the three services, and waits until they answer. */
export async function startPipeline(opts: PipelineOptions): Promise<Pipeline> {
  const ports = { ingest: await freePort(), results: await freePort(), worker: await freePort() };
  const svc = await startTestServices({
    env: {
      INGEST_PORT: String(ports.ingest),
      RESULTS_PORT: String(ports.results),
      WORKER_METRICS_PORT: String(ports.worker),
      BATCH_SIZE: '4',
      WORKER_CONCURRENCY: '4',
      CAMFLOW_API_TOKENS: JSON.stringify(opts.tokens),
      CAMFLOW_EVENT_RULES: JSON.stringify(opts.rules ?? []),
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
  });
  // Its own model cache: model names are reused across test files with different contents.
  svc.env.CAMFLOW_CACHE_DIR = join(svc.dir, 'model-cache');
  const logDir = join(svc.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const names: Service[] = ['ingest', 'results', 'worker'];
  const procs = names.map((n) => startServiceProcess(n, svc.env, join(logDir, `${n}.log`)));
  const base = (port: number) => `http://127.0.0.1:${port}`;
  const urls = {
    ingest: base(ports.ingest),
    results: base(ports.results),
    worker: base(ports.worker),
  };
  const p: Pipeline = {
    svc,
    ...urls,
    procs,
    logs: () =>
      Object.fromEntries(
        names.map((n) => [n, readFileSync(join(logDir, `${n}.log`), 'utf8')]),
      ) as Record<Service, string>,
    health: async () => {
      const status = (u: string) =>
        fetch(`${u}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.status,
          () => 0,
        );
      const [ingest, results, worker] = await Promise.all(names.map((n) => status(urls[n])));
      return { ingest, results, worker };
    },
    close: async () => {
      const codes = await Promise.all(procs.map((x) => x.stop()));
      await svc.close();
      return codes;
    },
  };
  try {
    // The worker's /healthz is liveness only; /readyz says it consumes.
    for (const n of names)
      await waitForHttp(`${urls[n]}${n === 'worker' ? '/readyz' : '/healthz'}`, 60_000);
  } catch (err) {
    await p.close();
    throw err;
  }
  return p;
}

/** Writes the seed card with `card` merged in, for `name@version`; returns its path. */
function writeCard(p: Pipeline, name: string, version: string, card: Record<string, unknown>) {
  const cardPath = join(p.svc.dir, `${name}@${version}.json`);
  writeFileSync(cardPath, JSON.stringify({ ...seedCardJson, ...card, name, version }));
  return cardPath;
}

/** `camflow models push` as a user runs it (a process); the card is the seed card plus `card`. */
export function pushModel(
  p: Pipeline,
  onnxPath: string,
  name: string,
  version: string,
  card: Record<string, unknown> = {},
) {
  const cardPath = writeCard(p, name, version, card);
  const r = spawnSync(
    process.execPath,
    [
      CAMFLOW_BIN,
      'models',
      'push',
      onnxPath,
      '--card',
      cardPath,
      '--name',
      name,
      '--version',
      version,
    ],
    { env: { ...process.env, ...p.svc.env }, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same push in this process (the code `camflow models push` runs), saving a start-up. */
export async function installModel(
  p: Pipeline,
  onnxPath: string,
  name: string,
  version: string,
  card: Record<string, unknown> = {},
): Promise<void> {
  const cardPath = writeCard(p, name, version, card);
  await pushModelFiles(p.svc.store, p.svc.config, { onnxPath, cardPath, name, version });
}

/** An HTTP answer: status, headers and the body (parsed when it is JSON). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A request with a bearer token (none when `token` is undefined); never throws on 4xx/5xx. */
export async function call<T = Record<string, unknown>>(
  url: string,
  token: string | undefined,
  init: RequestInit & { json?: unknown } = {},
): Promise<Answer<T>> {
  const { json, ...rest } = init;
  const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(url, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (HTML, Prometheus text): keep the text.
  }
  return { status: r.status, headers: r.headers, body: body as T };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run status as the results API reports it. */
export interface RunStatus {
  status: string;
  total: number;
  completed: number;
  failed: number;
}

/** Polls a run until it is completed or failed (bounded by `timeoutMs`). */
export async function waitForRun(
  p: Pipeline,
  token: string,
  runId: string,
  timeoutMs = 60_000,
): Promise<RunStatus> {
  const started = Date.now();
  for (;;) {
    const r = await call<RunStatus>(`${p.results}/v1/runs/${runId}`, token);
    if (r.status === 200 && (r.body.status === 'completed' || r.body.status === 'failed'))
      return r.body;
    if (Date.now() - started > timeoutMs)
      throw new Error(`run ${runId} not finished: ${r.status} ${JSON.stringify(r.body)}`);
    await sleep(200);
  }
}

/** A result as the results API lists it. */
export interface ResultItem {
  jobId: string;
  status: 'completed' | 'failed';
  source: { bucket: string; key: string };
  attempts: number;
  error?: { reason: string; message: string };
  overlayUrl?: string;
  outputs?: { overlayKey: string; heatmapKey: string; resultKey: string; bucket: string };
  image?: { width: number; height: number };
}

/** Polls `GET /v1/jobs/:jobId` until the job has a result. */
export async function waitForJob(
  p: Pipeline,
  token: string,
  jobId: string,
  timeoutMs = 60_000,
): Promise<ResultItem> {
  const started = Date.now();
  for (;;) {
    const r = await call<ResultItem & { status: string }>(`${p.results}/v1/jobs/${jobId}`, token);
    if (r.status === 200 && r.body.status !== 'pending') return r.body;
    if (Date.now() - started > timeoutMs)
      throw new Error(`job ${jobId} has no result: ${r.status} ${JSON.stringify(r.body)}`);
    await sleep(200);
  }
}

/** Every result of a run (pages followed to the end, bounded). */
export async function runResults(p: Pipeline, token: string, runId: string): Promise<ResultItem[]> {
  const items: ResultItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const r = await call<{ items: ResultItem[]; nextCursor: string | null }>(
      `${p.results}/v1/runs/${runId}/results?limit=1000${q}`,
      token,
    );
    if (r.status !== 200) throw new Error(`results of ${runId}: ${r.status}`);
    items.push(...r.body.items);
    cursor = r.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`results of ${runId}: more than 50 pages`);
}
