// The pipeline in this process for end-to-end tests: a real redis-server and s3rver
// (startTestServices), ingest, results and one worker on free ports; plus the JSON call and the
// bounded poll those tests make.
import { join } from 'node:path';
import { type IngestService, startIngest } from '@camflow/ingest';
import { type ResultsService, startResults } from '@camflow/results-api';
import { createLogger } from '@camflow/telemetry';
import { startWorker, type WorkerService } from '@camflow/worker';
import { startTestServices, type TestServices } from './services.js';

export interface InProcessPipeline {
  svc: TestServices;
  ingest: IngestService;
  results: ResultsService;
  worker: WorkerService;
  close(): Promise<void>;
}

/** Starts the services; `setup` runs first (push models, upload data) with the stores ready. */
export async function startInProcessPipeline(
  env: Record<string, string>,
  setup: (svc: TestServices) => Promise<void> = async () => {},
): Promise<InProcessPipeline> {
  const quiet = createLogger('e2e', 'silent');
  const svc = await startTestServices({ env });
  await setup(svc);
  const ingest = await startIngest(svc.config, { port: 0, host: '127.0.0.1', logger: quiet });
  const results = await startResults(svc.config, { port: 0, host: '127.0.0.1', logger: quiet });
  const worker = await startWorker(svc.config, {
    logger: quiet,
    modelDirectory: join(svc.dir, 'models'),
  });
  return {
    svc,
    ingest,
    results,
    worker,
    close: async () => {
      await worker.close();
      await results.close();
      await ingest.close();
      await svc.close();
    },
  };
}

/** A JSON call with a Bearer token: the status and the parsed body. */
export async function callJson<T = Record<string, unknown>>(
  url: string,
  token: string,
  init: RequestInit = {},
) {
  const r = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return { status: r.status, body: (await r.json()) as T };
}

/** Polls until `done` holds for the answer (bounded). */
export async function poll<T>(
  get: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
