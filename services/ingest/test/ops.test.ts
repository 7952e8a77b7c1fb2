// Ingest's internal ops listener (METRICS_PORT): probes and Prometheus without a token, bodies
// that say ok/down and nothing more, readiness that fails while the service closes; the API
// port keeps its token rules.
import { get } from 'node:http';
import { loadConfig } from '@camflow/config';
import { createLogger } from '@camflow/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { startIngest } from '../src/index.js';

let services: TestServices;
beforeAll(async () => {
  services = await startTestServices();
});
afterAll(async () => services?.close());

describe('ingest ops listener', () => {
  it('answers /metrics, /healthz, /readyz without a token, and stops being ready on close', async () => {
    const svc = await startIngest(loadConfig({ ...services.env, METRICS_PORT: '0' }), {
      port: 0,
      logger: createLogger('ingest', 'silent'),
      expansion: false,
    });
    const ops = `http://127.0.0.1:${svc.metricsPort}`;
    try {
      const metrics = await fetch(`${ops}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/service="ingest"/);
      expect((await fetch(`${ops}/healthz`)).status).toBe(200);
      const ready = await fetch(`${ops}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: 'ok', s3: 'ok' } });
      expect((await fetch(`http://127.0.0.1:${svc.port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${svc.port}/readyz`)).status).toBe(401);
    } finally {
      // Readiness flips before the API closes; the ops listener closes last.
      // On its own connection: an idle keep-alive socket from the requests above is closed by
      // the shutdown, and a request sent on it at that moment is reset (as fetch does on Node 22).
      const closing = svc.close();
      const during = await getFresh(`${ops}/readyz`);
      expect(during.status).toBe(503);
      expect((JSON.parse(during.body) as { status: string }).status).toBe('closing');
      await closing;
    }
  });
});

/** GET on a new connection (no agent, no keep-alive). */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
