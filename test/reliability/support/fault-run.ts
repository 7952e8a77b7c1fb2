// The shape of every long fault case: upload N images, submit a run over them, wait until part of
// it is done, inject the fault, wait for the run to finish, then read every result and every
// output object and count outcomes per key.
import { EVENT_FIELD, EVENTS_STREAM } from '@camflow/contracts';
import type { RunStatus } from './api.js';
import { uploadImages } from './images.js';
import { metricSum } from './metrics.js';
import { countOutcomes, type Outcomes, type ResultItem } from './outcomes.js';
import { DATA_BUCKET, MODEL, type Pipeline, until } from './pipeline.js';

/** A run under way. */
export interface StartedRun {
  runId: string;
  prefix: string;
  keys: string[];
  startedAt: number;
}

/** What a finished run left behind. */
export interface FinishedRun {
  status: RunStatus;
  items: ResultItem[];
  outcomes: Outcomes;
  /** From submission to the last result (s). */
  runSeconds: number;
  /** Output objects under the run's prefix. */
  outputObjects: number;
  /** Completed results whose three output objects are all there. */
  outputsComplete: number;
  /** The latest finishedAt of any result (ms). */
  lastFinishedAt: number;
  /** When the results API first reported the run finished (ms). */
  doneAt: number;
}

/** Uploads `n` images under `prefix` and submits a bulk run over them. */
export async function startRun(p: Pipeline, prefix: string, n: number): Promise<StartedRun> {
  const keys = await uploadImages(p.store, DATA_BUCKET, prefix, n);
  const startedAt = Date.now();
  const runId = await p.api.submitRun({ model: MODEL, source: { bucket: DATA_BUCKET, prefix } });
  return { runId, prefix, keys, startedAt };
}

/** Waits until at least `fraction` of the run has an outcome. */
export function waitForProgress(
  p: Pipeline,
  run: StartedRun,
  fraction: number,
  timeoutMs = 60_000,
): Promise<RunStatus> {
  const need = Math.ceil(run.keys.length * fraction);
  return p.api.waitFor(run.runId, (s) => s.completed + s.failed >= need, timeoutMs);
}

/**
 * Waits for the run to finish, then reads every result and lists every output. `listOutputs:
 * false` skips the listing (s3rver cannot list a prefix holding an object whose upload it was
 * stopped in the middle of, until a retry writes that object again).
 */
export async function finishRun(
  p: Pipeline,
  run: StartedRun,
  timeoutMs = 120_000,
  listOutputs = true,
): Promise<FinishedRun> {
  const status = await p.api.waitFor(run.runId, undefined, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\nservice logs:\n${p.logTail()}`);
  });
  const doneAt = Date.now();
  const items = await p.api.results(run.runId);
  const objects = new Set(
    listOutputs ? await p.outputObjects(`explanations/${DATA_BUCKET}/${run.prefix}`) : [],
  );
  const complete = items.filter(
    (i) =>
      i.status === 'completed' &&
      i.outputs !== undefined &&
      [i.outputs.overlayKey, i.outputs.heatmapKey, i.outputs.resultKey].every((k) =>
        objects.has(k),
      ),
  );
  const lastFinishedAt = Math.max(...items.map((i) => i.finishedAt));
  return {
    status,
    items,
    outcomes: countOutcomes(items, run.keys),
    runSeconds: (lastFinishedAt - run.startedAt) / 1000,
    outputObjects: objects.size,
    outputsComplete: complete.length,
    lastFinishedAt,
    doneAt,
  };
}

/** True when the run completed with every key's result completed once and all outputs there. */
export function allCompletedOnce(f: FinishedRun, n: number): boolean {
  const o = f.outcomes;
  return (
    f.status.status === 'completed' &&
    f.status.total === n &&
    f.status.completed === n &&
    o.results === n &&
    o.completed === n &&
    o.lost.length === 0 &&
    o.duplicated.length === 0 &&
    o.unexpected.length === 0 &&
    f.outputsComplete === n &&
    f.outputObjects === 3 * n
  );
}

/** Seconds between two Date.now() values, to 0.1 s. */
export const secondsBetween = (from: number, to: number) => Math.round((to - from) / 100) / 10;

/**
 * How many completion events the stream holds per job of `jobIds` (at-least-once: a worker
 * killed between publishing and completing publishes again on the retry; the index dedups).
 */
export async function eventsPerJob(p: Pipeline, jobIds: string[]): Promise<Map<string, number>> {
  const wanted = new Set(jobIds);
  const counts = new Map<string, number>();
  let start = '-';
  for (let page = 0; page < 1000; page++) {
    const entries = (await p.inspect().xrange(EVENTS_STREAM, start, '+', 'COUNT', 1000)) as [
      string,
      string[],
    ][];
    for (const [, fields] of entries) {
      const raw = fields[fields.indexOf(EVENT_FIELD) + 1];
      const jobId = (JSON.parse(raw) as { jobId: string }).jobId;
      if (wanted.has(jobId)) counts.set(jobId, (counts.get(jobId) ?? 0) + 1);
    }
    if (entries.length < 1000) return counts;
    start = `(${entries[entries.length - 1][0]}`;
  }
  throw new Error('events stream: more than 1000 pages');
}

/** Waits until worker `i` holds active jobs (so a signal hits it mid-work); returns how many. */
export async function waitForActiveJobs(p: Pipeline, i: number): Promise<number> {
  const active = async () => metricSum(await p.workerMetrics(i), 'camflow_worker_active_jobs');
  await until('victim has active jobs', async () => (await active()) > 0, 30_000);
  return active();
}
