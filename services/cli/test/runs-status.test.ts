// What `runs create --watch` and `runs status` say about a run that failed as a whole or found
// nothing, through the compiled CLI against the embedded stack (redis-server, s3rver, ingest,
// results, a worker with ONNX Runtime in this process); and `runs results` filtered as the API
// filters.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pushModel } from '@camflow/ingest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type InProcessPipeline,
  startInProcessPipeline,
} from '../../../test/support/in-process.js';
import type { TestServices } from '../../../test/support/services.js';
import { runCli } from './run-cli.js';

const TOKEN = 'cli-runs-status-token-0123';
const MODELS = join(import.meta.dirname, '../../../test/fixtures/models');

let svc: TestServices;
let stack: InProcessPipeline;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startInProcessPipeline(
    {
      CAMFLOW_API_TOKENS: JSON.stringify({ [TOKEN]: { scopes: ['admin'], buckets: ['*'] } }),
    },
    async (s) => {
      svc = s;
      await pushModel(svc.store, svc.config, {
        onnxPath: join(MODELS, 'xray-clean/model.onnx'),
        cardPath: join(MODELS, 'xray-clean/model.json'),
        name: 'xray-clean',
        version: '1',
      });
      await svc.store.ensureBucket('cli-status-empty');
      await svc.store.ensureBucket('cli-status-mixed');
      const png = await readFile(
        join(import.meta.dirname, '../../../test/fixtures/byom/images/cxr15.png'),
      );
      await svc.store.put('cli-status-mixed', 'scans/good.png', new Uint8Array(png), 'image/png');
      await svc.store.put('cli-status-mixed', 'scans/broken.png', 'not a png', 'image/png');
    },
  );
  env = {
    ...svc.env,
    CAMFLOW_INGEST_URL: `http://127.0.0.1:${stack.ingest.port}`,
    CAMFLOW_RESULTS_URL: `http://127.0.0.1:${stack.results.port}`,
    CAMFLOW_TOKEN: TOKEN,
  };
}, 120_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('runs status and results: reasons, empty runs, filters', () => {
  test('a missing bucket: --watch and runs status show the reason the API holds', async () => {
    const r = await runCli(
      ['runs', 'create', 's3://no-such-bucket-here/x/', '--model', 'xray-clean@1', '--watch'],
      env,
    );
    expect(r.code).toBe(1);
    const runId = /^run (\S+)$/m.exec(r.stderr)?.[1];
    expect(runId).toBeDefined();
    expect(r.stdout).toMatch(/: failed, 0 completed, 0 failed of 0: .*bucket does not exist/i);

    const api = await fetch(`${env.CAMFLOW_RESULTS_URL}/v1/runs/${runId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }).then((x) => x.json() as Promise<{ error: string }>);
    const s = await runCli(['runs', 'status', runId as string], env);
    expect(s.code).toBe(0);
    expect(s.stdout.trim()).toBe(`run ${runId}: failed, 0 completed, 0 failed of 0: ${api.error}`);
  }, 60_000);

  test('an empty prefix completes with a warning that it found no images', async () => {
    const r = await runCli(
      ['runs', 'create', 's3://cli-status-empty/nothing/', '--model', 'xray-clean@1', '--watch'],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: completed, 0 completed, 0 failed of 0$/m);
    expect(r.stderr).toMatch(
      /camflow: warning: run \S+ found no images under s3:\/\/cli-status-empty\/nothing\//,
    );
  }, 60_000);

  test('runs results --status failed|completed lists only those results', async () => {
    const r = await runCli(
      ['runs', 'create', 's3://cli-status-mixed/scans/', '--model', 'xray-clean@1', '--watch'],
      env,
    );
    expect(r.stdout).toMatch(/: (failed|completed), 1 completed, 1 failed of 2$/m);
    const runId = /^run (\S+)$/m.exec(r.stderr)?.[1] as string;
    const failed = await runCli(['runs', 'results', runId, '--status', 'failed'], env);
    expect(failed.code).toBe(0);
    expect(failed.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^s3:\/\/cli-status-mixed\/scans\/broken\.png {2}failed: /),
    ]);
    const done = await runCli(['runs', 'results', runId, '--status', 'completed'], env);
    expect(done.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^s3:\/\/cli-status-mixed\/scans\/good\.png {2}target 0 scores /),
    ]);
    const bad = await runCli(['runs', 'results', runId, '--status', 'done'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status must be one of completed, failed; got "done"/);
  }, 120_000);
});
