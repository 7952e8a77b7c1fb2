// Fault: `camflow serve dicom` killed (SIGKILL) in the middle of an association. dcmtk's
// storescu (the modality) sends 120 instances in one association; after the service has taken
// 30, it is killed; storescu's association breaks. The service starts again on the same port and
// the modality re-sends what it holds no success response for (what a modality's queue does).
// Afterwards every instance is stored in S3 as sent (its data set byte for byte), and queued
// exactly once.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { dicomStorageKey, type ExplainJob, QUEUES } from '@camflow/contracts';
import { parseDicom, readHeader } from '@camflow/dicom';
import { dicomInstanceKey } from '@camflow/ingest';
import { freePort } from '@camflow/storage';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CAMFLOW_BIN } from '../../../services/cli/src/demo/service-process.js';
import { startTestServices, type TestServices } from '../../support/services.js';
import { recordFigures } from '../support/figures.js';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../../fixtures/dicom/ct16s.explicit-le.dcm');
const N = 120;
const KILL_AFTER = 30;

interface Scp {
  child: ChildProcess;
  /** Instances the service logged as received so far. */
  received: number;
  /** Resolves once `n` instances were received. */
  until(n: number): Promise<void>;
  exited: Promise<unknown>;
}

/** `camflow serve dicom` as a process; counts its "DICOM instance received" log lines. */
function startScp(env: Record<string, string>): Promise<Scp> {
  const child = spawn(process.execPath, [CAMFLOW_BIN, 'serve', 'dicom'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { n: number; resolve: () => void }[] = [];
  const scp: Scp = {
    child,
    received: 0,
    until: (n) =>
      n <= scp.received
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ n, resolve })),
    exited: new Promise((r) => child.once('exit', r)),
  };
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => reject(new Error(`camflow serve dicom exited ${code}: ${err}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('DICOM SCP listening')) resolve(scp);
      if (!line.includes('DICOM instance received')) return;
      scp.received++;
      for (const w of waiters.filter((w) => w.n <= scp.received)) w.resolve();
    });
  });
}

/** storescu in one association; the files it got a success response for. */
async function storescu(port: number, files: string[]) {
  const r = await run(
    'storescu',
    ['-v', '-aet', 'MODALITY', '-aec', 'CAMFLOW', '127.0.0.1', String(port), ...files],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  ).then(
    (o) => ({ code: 0, out: o.stdout + o.stderr }),
    (e) => ({ code: Number(e.code ?? 1), out: `${e.stdout}${e.stderr}` }),
  );
  const acknowledged = new Set<string>();
  let current: string | undefined;
  for (const line of r.out.split('\n')) {
    const sending = /Sending file: (.+)$/.exec(line);
    if (sending) current = sending[1].trim();
    else if (current && /Received Store Response \(Success\)/.test(line)) {
      acknowledged.add(current);
      current = undefined;
    }
  }
  return { ...r, acknowledged };
}

/** A Part 10 file's data set: the bytes after the meta group (which the SCP writes itself). */
function dataSet(part10: Uint8Array): Buffer {
  const b = Buffer.from(part10.buffer, part10.byteOffset, part10.byteLength);
  return b.subarray(132 + 12 + b.readUInt32LE(140));
}

let svc: TestServices;
let redis: Redis;
let realtime: Queue<ExplainJob>;
let scp: Scp | undefined;

beforeAll(async () => {
  svc = await startTestServices();
  redis = new Redis(svc.config.REDIS_URL, { maxRetriesPerRequest: null });
  realtime = new Queue<ExplainJob>(QUEUES.realtime, { connection: redis });
}, 60_000);

afterAll(async () => {
  scp?.child.kill('SIGKILL');
  await realtime?.close();
  redis?.disconnect();
  await svc?.close();
});

test('the DICOM service killed mid-association: the modality re-sends, nothing is lost or queued twice', async () => {
  // N distinct instances: the fixture with a new SOP Instance UID each (dcmtk's dcmodify -gin).
  const dir = join(svc.dir, 'instances');
  mkdirSync(dir);
  const files = Array.from({ length: N }, (_, i) => {
    const f = join(dir, `i${String(i).padStart(3, '0')}.dcm`);
    copyFileSync(FIXTURE, f);
    return f;
  });
  await run('dcmodify', ['-nb', '-gin', ...files]);
  const headers = files.map((f) =>
    readHeader(parseDicom(new Uint8Array(readFileSync(f)), 'x7fe00010')),
  );
  expect(new Set(headers.map((h) => h.sopInstanceUID)).size).toBe(N);

  const port = await freePort();
  const env = {
    ...svc.env,
    DICOM_PORT: String(port),
    HOST: '127.0.0.1',
    DICOM_ALLOWED_AETS: '["MODALITY"]',
    CAMFLOW_DICOM_RULES: JSON.stringify([{ model: 'xray-clean@1' }]),
  };
  scp = await startScp(env);
  const first = storescu(port, files);
  await scp.until(KILL_AFTER);
  const killedAt = Date.now();
  scp.child.kill('SIGKILL');
  await scp.exited;
  const sent = await first;
  const acknowledgedBeforeKill = sent.acknowledged.size;

  scp = await startScp(env);
  const restartSeconds = (Date.now() - killedAt) / 1000;
  const resend = files.filter((f) => !sent.acknowledged.has(f));
  const retry = await storescu(port, resend);

  const bucket = svc.config.CAMFLOW_OUTPUT_BUCKET;
  let stored = 0;
  for (const [i, h] of headers.entries()) {
    const key = dicomStorageKey({
      studyInstanceUID: h.studyInstanceUID!,
      seriesInstanceUID: h.seriesInstanceUID!,
      sopInstanceUID: h.sopInstanceUID!,
    });
    const object = await svc.store.get(bucket, key).catch(() => undefined);
    if (object && dataSet(object.body).equals(dataSet(readFileSync(files[i])))) stored++;
  }
  const jobs = await realtime.getJobs(['waiting', 'prioritized', 'delayed']);
  const queuedSops = jobs.map((j) => j.data.source.dicom?.sopInstanceUID);
  const queuedOnce = headers.filter(
    (h) => queuedSops.filter((s) => s === h.sopInstanceUID).length === 1,
  ).length;
  const records = await Promise.all(
    headers.map((h) => redis.hget(dicomInstanceKey(h.sopInstanceUID!), 'status')),
  );
  const lost = N - stored;
  const pass =
    sent.code !== 0 &&
    acknowledgedBeforeKill < N &&
    retry.code === 0 &&
    retry.acknowledged.size === resend.length &&
    lost === 0 &&
    queuedOnce === N &&
    jobs.length === N;
  recordFigures('dicom', {
    case: 'DICOM service SIGKILL mid-association',
    injected: `storescu sends ${N} instances in one association; camflow serve dicom gets SIGKILL after logging ${KILL_AFTER} received, then starts again on the same port`,
    expected:
      'the association breaks; the modality re-sends every instance it has no success response for; all are stored as sent and queued exactly once',
    pass,
    instances: N,
    acknowledgedBeforeKill,
    resent: resend.length,
    storedAsSent: stored,
    lost,
    queuedExactlyOnce: queuedOnce,
    jobsQueued: jobs.length,
    restartSeconds,
  });
  expect(sent.code, sent.out.slice(-2000)).not.toBe(0);
  expect(acknowledgedBeforeKill).toBeGreaterThan(0);
  expect(acknowledgedBeforeKill).toBeLessThan(N);
  expect(retry.code, retry.out.slice(-2000)).toBe(0);
  expect(retry.acknowledged.size).toBe(resend.length);
  expect(lost).toBe(0);
  expect(records.every((s) => s === 'queued')).toBe(true);
  expect(queuedOnce).toBe(N);
  expect(jobs.length).toBe(N);
}, 180_000);
