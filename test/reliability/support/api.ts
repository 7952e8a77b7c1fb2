// The pipeline's HTTP contracts as fault tests use them: submit a run, wait for it (riding out a
// results API that is down), page through every result.
import type { ResultItem } from './outcomes.js';

/** `GET /v1/runs/:runId`, the fields fault tests read. */
export interface RunStatus {
  runId: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  total: number;
  completed: number;
  failed: number;
  listingDone: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client for the ingest and results APIs with one bearer token. */
export class PipelineApi {
  constructor(
    readonly ingestUrl: string,
    readonly resultsUrl: string,
    readonly token: string,
  ) {}

  /** JSON of a 2xx answer; throws with status and body otherwise. */
  async call<T>(url: string, init: RequestInit = {}): Promise<T> {
    const r = await fetch(url, {
      ...init,
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${r.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** POST /v1/runs; returns the run id. */
  async submitRun(body: Record<string, unknown>): Promise<string> {
    const { runId } = await this.call<{ runId: string }>(`${this.ingestUrl}/v1/runs`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    return runId;
  }

  /** POST /v1/events/s3 with a notification; returns the HTTP status. */
  async postEvent(notification: unknown): Promise<number> {
    const r = await fetch(`${this.ingestUrl}/v1/events/s3`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(notification),
      signal: AbortSignal.timeout(10_000),
    });
    await r.arrayBuffer();
    return r.status;
  }

  /** GET /v1/runs/:runId */
  status(runId: string): Promise<RunStatus> {
    return this.call<RunStatus>(`${this.resultsUrl}/v1/runs/${runId}`);
  }

  /**
   * Polls the run until `done(status)` (default: completed or failed). Errors while polling
   * (a results API that is restarting) are ridden out until `timeoutMs`.
   */
  async waitFor(
    runId: string,
    done: (s: RunStatus) => boolean = (s) => s.status === 'completed' || s.status === 'failed',
    timeoutMs = 120_000,
  ): Promise<RunStatus> {
    const started = Date.now();
    let last: RunStatus | string = 'no answer yet';
    while (Date.now() - started < timeoutMs) {
      try {
        const s = await this.status(runId);
        if (done(s)) return s;
        last = s;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(
      `run ${runId}: condition not met in ${timeoutMs / 1000} s; last: ${JSON.stringify(last)}`,
    );
  }

  /** Every result of the run, following nextCursor (at most 1000 pages). */
  async results(runId: string, limit = 100): Promise<ResultItem[]> {
    const items: ResultItem[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const r: { items: ResultItem[]; nextCursor: string | null } = await this.call(
        `${this.resultsUrl}/v1/runs/${runId}/results?limit=${limit}${q}`,
      );
      items.push(...r.items);
      cursor = r.nextCursor;
      if (!cursor) return items;
    }
    throw new Error(`run ${runId}: more than 1000 result pages`);
  }
}
