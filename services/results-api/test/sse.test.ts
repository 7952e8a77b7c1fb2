import { tokenId } from '@camflow/contracts';
import { createLogger } from '@camflow/telemetry';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type ResultsService, startResults } from '../src/index.js';
import { addJobs, completed, publish, seedRun, TOKENS, TOKENS_ENV } from './helpers.js';

let services: TestServices;
let redis: Redis;
let api: ResultsService;

/** Opens an SSE stream and collects its text; resolves once the server says it is connected. */
async function listen(path: string, token: string) {
  const ac = new AbortController();
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const stream = { text: '', closed: false, close: () => ac.abort() };
  const waiters: (() => void)[] = [];
  // Resolves when the stream ends (the server closed it, or we aborted).
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stream.text += decoder.decode(value);
        for (const w of waiters.splice(0)) w();
      }
    } catch {
      // aborted
    }
    stream.closed = true;
    for (const w of waiters.splice(0)) w();
  })();
  const until = async (needle: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!stream.text.includes(needle)) {
      if (stream.closed || Date.now() > deadline)
        throw new Error(`no "${needle}" in ${stream.text}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  await until(': connected');
  return Object.assign(stream, { until, ended });
}

beforeAll(async () => {
  services = await startTestServices({ env: { CAMFLOW_API_TOKENS: TOKENS_ENV } });
  redis = new Redis(services.redis.url);
  api = await startResults(services.config, {
    port: 0,
    logger: createLogger('results-test', 'silent'),
    heartbeatMs: 200,
    closeGraceMs: 300,
  });
  await seedRun(redis, { runId: 'live' });
  await seedRun(redis, { runId: 'other-live', owner: tokenId(TOKENS.other) });
  await addJobs(redis, 'live', ['l1']);
  await addJobs(redis, 'other-live', ['o1']);
});

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await services?.close();
});

describe('GET /v1/events', () => {
  it('streams the events of visible runs, with heartbeats, and filters by run', async () => {
    const mine = await listen('/v1/events', TOKENS.owner);
    const filtered = await listen('/v1/events?runId=other-live', TOKENS.admin);
    await publish(redis, completed({ jobId: 'o1', runId: 'other-live' }));
    await publish(redis, completed({ jobId: 'l1', runId: 'live' }));
    await mine.until('"jobId":"l1"');
    expect(mine.text).toMatch(/event: job\.completed\nid: |id: [^\n]+\nevent: job\.completed/);
    expect(mine.text).not.toContain('"jobId":"o1"');
    await filtered.until('"jobId":"o1"');
    await mine.until(': ping');
    expect(filtered.text).not.toContain('"jobId":"l1"');
    const data = JSON.parse(/data: (.+"jobId":"l1".+)\n/.exec(mine.text)?.[1] ?? '{}');
    expect(data).toMatchObject({ type: 'job.completed', runIds: ['live'], jobId: 'l1' });
    mine.close();
    filtered.close();
  });

  it('refuses tokens without results:read', async () => {
    const res = await fetch(`http://127.0.0.1:${api.port}/v1/events`, {
      headers: { authorization: `Bearer ${TOKENS.writer}` },
    });
    expect(res.status).toBe(403);
  });

  it('ends open streams on close', async () => {
    const s = await listen('/v1/events', TOKENS.owner);
    const t = Date.now();
    await api.close();
    await s.ended;
    expect(s.closed).toBe(true);
    expect(Date.now() - t).toBeLessThan(2000);
  });
});
