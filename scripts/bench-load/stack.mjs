// The load benchmark's stack: its own redis-server and s3rver, a small model pushed with the
// CLI, and the services as `camflow serve` processes (ingest, results, N workers). Every piece
// registers its cleanup on `cleanups`, so a failure half way still tears everything down.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '@camflow/config';
import { seedCardJson } from '@camflow/imaging';
import {
  embeddedS3Env,
  freePort,
  S3Store,
  startEmbeddedS3,
  startRedisServer,
} from '@camflow/storage';
import {
  CAMFLOW_BIN,
  startServiceProcess,
  waitForHttp,
} from '../../services/cli/dist/demo/service-process.js';

/** The bucket the benchmark's images live in. */
export const DATA_BUCKET = 'loadbench';

/** Runs the CLI to completion; rejects with its stderr on a non-zero exit. */
export function cli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAMFLOW_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`camflow ${args[0]}: exit ${code}: ${err}`)),
    );
  });
}

/** Starts Redis and S3 and pushes the model (`xray@load`, nf/size as given). */
export async function startBackends(dir, cleanups, { nf, size }) {
  const redis = await startRedisServer({ dir: join(dir, 'redis') });
  cleanups.push(() => redis.close());
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  cleanups.push(() => s3.close());
  const token = `load-admin-${process.pid}-${Date.now()}`;
  const ports = { ingest: await freePort(), results: await freePort() };
  const env = {
    REDIS_URL: redis.url,
    ...embeddedS3Env(s3.endpoint),
    CAMFLOW_OUTPUT_BUCKET: 'camflow-outputs',
    CAMFLOW_MODEL_BUCKET: 'camflow-models',
    INGEST_PORT: String(ports.ingest),
    RESULTS_PORT: String(ports.results),
    CAMFLOW_CACHE_DIR: join(dir, 'model-cache'),
    CAMFLOW_API_TOKENS: JSON.stringify({ [token]: { scopes: ['admin'], buckets: ['*'] } }),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const store = S3Store.fromConfig(config);
  cleanups.push(async () => store.close());
  for (const b of [config.CAMFLOW_OUTPUT_BUCKET, config.CAMFLOW_MODEL_BUCKET, DATA_BUCKET])
    await store.ensureBucket(b);

  const modelPath = join(dir, 'model.onnx');
  const cardPath = join(dir, 'model.json');
  await cli(
    ['make-model', 'xray', '--nf', String(nf), '--size', String(size), '--out', modelPath],
    env,
  );
  const card = {
    ...seedCardJson,
    name: 'xray-load',
    version: '1',
    input: { ...seedCardJson.input, size, resizeTo: size },
    layer: 'resnet_blocks.4',
  };
  await writeFile(cardPath, JSON.stringify(card));
  await cli(
    ['models', 'push', modelPath, '--card', cardPath, '--name', 'xray', '--version', 'load'],
    env,
  );
  return {
    redis,
    s3,
    store,
    env,
    token,
    model: 'xray@load',
    ingestUrl: `http://127.0.0.1:${ports.ingest}`,
    resultsUrl: `http://127.0.0.1:${ports.results}`,
  };
}

/**
 * Starts ingest, results and `workers` worker processes (each with its own metrics port, so
 * their job counters can be read). Returns them with their pids.
 */
export async function startServices(stack, dir, cleanups, { workers, workerEnv }) {
  const procs = [];
  cleanups.push(() => Promise.all(procs.map((p) => p.stop())));
  const log = (name) => join(dir, `${name}.log`);
  procs.push(startServiceProcess('ingest', stack.env, log('ingest')));
  procs.push(startServiceProcess('results', stack.env, log('results')));
  const workerProcs = [];
  for (let i = 0; i < workers; i++) {
    const metricsPort = await freePort();
    const p = startServiceProcess(
      'worker',
      { ...stack.env, ...workerEnv, WORKER_METRICS_PORT: String(metricsPort) },
      log(`worker-${i}`),
    );
    procs.push(p);
    workerProcs.push({ ...p, pid: p.child.pid, metricsUrl: `http://127.0.0.1:${metricsPort}` });
  }
  await waitForHttp(`${stack.ingestUrl}/healthz`, 120_000);
  await waitForHttp(`${stack.resultsUrl}/healthz`, 120_000);
  // /readyz: consuming (a worker's /healthz is liveness only).
  for (const w of workerProcs) await waitForHttp(`${w.metricsUrl}/readyz`, 120_000);
  return { procs, workers: workerProcs };
}
