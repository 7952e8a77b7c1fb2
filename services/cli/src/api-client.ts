import type { Config } from '@camflow/config';
import { UsageError } from './usage.js';

/** A small client for the ingest and results HTTP APIs (what `camflow runs ...` talks to). */
export class ApiClient {
  constructor(
    readonly ingestUrl: string,
    readonly resultsUrl: string,
    private readonly token: string | undefined,
  ) {}

  static fromConfig(config: Config): ApiClient {
    return new ApiClient(
      config.CAMFLOW_INGEST_URL ?? `http://127.0.0.1:${config.INGEST_PORT}`,
      config.CAMFLOW_RESULTS_URL ?? `http://127.0.0.1:${config.RESULTS_PORT}`,
      config.CAMFLOW_TOKEN,
    );
  }

  /** JSON request; HTTP errors become one-line UsageErrors with the server's message. */
  async request<T>(
    base: 'ingest' | 'results',
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const text = await this.requestText(base, method, path, body, headers);
    return JSON.parse(text) as T;
  }

  async requestText(
    base: 'ingest' | 'results',
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<string> {
    const url = `${base === 'ingest' ? this.ingestUrl : this.resultsUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new UsageError(
        `cannot reach ${url}: ${(err as Error).cause ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const j = JSON.parse(text) as { message?: string; error?: string };
        message = j.message ?? j.error ?? text;
      } catch {
        // not JSON
      }
      throw new UsageError(`${method} ${path}: HTTP ${res.status}: ${message.split('\n')[0]}`);
    }
    return text;
  }
}
