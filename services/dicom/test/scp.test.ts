import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dicomStorageKey, explainJobSchema, QUEUES } from '@camflow/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { type DicomService, startDicomService } from '../src/index.js';

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, '../../../test/fixtures/dicom');
const PHI = ['PHANTOM^', 'PHI-'];

// dcmtk's storescu/echoscu are the modality (Debian dcmtk, installed by .ci/run). storescu
// proposes uncompressed syntaxes unless told: each file goes with its own syntax's option, so
// the instance travels compressed as it is.
const PROPOSE: Record<string, string> = {
  j2k: '--propose-j2k-lossless',
  'jpeg-ls': '--propose-jls-lossless',
  rle: '--propose-rle',
  'jpeg-sv1': '--propose-lossless',
  'explicit-le': '--propose-little',
};
const storescu = async (port: number, files: string[], aet = 'MODALITY') => {
  let out = '';
  let code = 0;
  for (const f of files) {
    const option = PROPOSE[f.split('.').at(-2) ?? ''] ?? '--propose-little';
    await run('storescu', [
      '-v',
      '-aet',
      aet,
      '-aec',
      'CAMFLOW',
      option,
      '127.0.0.1',
      String(port),
      f,
    ]).then(
      (r) => (out += r.stdout + r.stderr),
      (e) => {
        out += `${e.stdout}${e.stderr}`;
        code = e.code as number;
      },
    );
  }
  return { code, out };
};

describe('camflow serve dicom: C-STORE SCP -> S3 -> realtime job', () => {
  let services: TestServices;
  let dicom: DicomService;
  let redis: Redis;
  const logs: string[] = [];

  beforeAll(async () => {
    services = await startTestServices();
    // Capture every log line the service writes (PHI must never be in one).
    const capture = { write: (line: string) => void logs.push(line) };
    dicom = await startDicomService(
      {
        ...services.config,
        DICOM_ALLOWED_AETS: '["MODALITY", "PACS"]',
        CAMFLOW_DICOM_RULES: JSON.stringify([
          { model: 'xray-clean@1', modality: 'CT' },
          { model: 'xray-clean@1', modality: 'XA', frames: 'each' },
        ]),
      },
      { port: 0, host: '127.0.0.1', metricsPort: 0, logger: pino({ level: 'debug' }, capture) },
    );
    redis = new Redis(services.config.REDIS_URL);
  });

  afterAll(async () => {
    await dicom?.close();
    redis?.disconnect();
    await services?.close();
  });

  it('answers C-ECHO, and rejects calling AE titles not allowed', async () => {
    await run('echoscu', ['-aet', 'MODALITY', '-aec', 'CAMFLOW', '127.0.0.1', String(dicom.port)]);
    await expect(
      run('echoscu', ['-aet', 'STRANGER', '-aec', 'CAMFLOW', '127.0.0.1', String(dicom.port)]),
    ).rejects.toThrow(/Association Rejected|Calling AE Title Not Recognized/i);
    await expect(
      run('echoscu', ['-aet', 'MODALITY', '-aec', 'OTHER', '127.0.0.1', String(dicom.port)]),
    ).rejects.toThrow(/Association Rejected|Called AE Title Not Recognized/i);
  });

  it('stores compressed instances as received, queues matching ones, skips the rest with a reason', async () => {
    const files = ['ct16s.j2k.dcm', 'xa8.jpeg-ls.dcm', 'mr12.rle.dcm'].map((f) =>
      join(fixtures, f),
    );
    const r = await storescu(dicom.port, files);
    expect(r.code, r.out).toBe(0);
    const bucket = services.config.CAMFLOW_OUTPUT_BUCKET;
    for (const f of files) {
      const sent = readFileSync(f);
      const ids = uidsOf(sent);
      const stored = await services.store.get(bucket, dicomStorageKey(ids));
      // The data set byte for byte as sent, in its own (compressed) transfer syntax.
      expect(
        Buffer.from(stored.body).includes(
          sent.subarray(sent.indexOf('DICM') + 4 + metaLength(sent)),
        ),
      ).toBe(true);
    }
    const queue = new Queue(QUEUES.realtime, { connection: redis });
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
    await queue.close();
    const payloads = jobs.map((j) => explainJobSchema.parse(j.data));
    // CT: one job; XA (3 frames, frames: each): three; MR: no rule.
    expect(payloads.filter((p) => p.source.key.includes('.1.1/')).length).toBe(1);
    expect(payloads.map((p) => p.settings.dicom?.frame ?? 0).sort()).toEqual([0, 0, 1, 2]);
    expect(payloads[0].source.dicom?.sopInstanceUID).toMatch(/^1\.2\.826\./);
    const mr = uidsOf(readFileSync(files[2]));
    expect(await redis.hgetall(`camflow:dicom:instance:${mr.sopInstanceUID}`)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^no rule matches \(calling AE MODALITY, modality MR/),
    });
  });

  it('a malformed file gets a failure status and the association goes on', async () => {
    const bad = join(services.dir, 'bad.dcm');
    const good = readFileSync(join(fixtures, 'ct16s.rle.dcm'));
    // Same header, a study UID that breaks the grammar: refused, never stored.
    writeFileSync(
      bad,
      Buffer.from(
        good
          .toString('latin1')
          .replace('1.2.826.0.1.3680043.10.1010.1.1', '1.2.826.0.1.3680043.10.1010.1..'),
        'latin1',
      ),
    );
    // One association, two instances: the first refused (0xC000), the second stored.
    const r = await run('storescu', [
      '-v',
      '-aet',
      'MODALITY',
      '-aec',
      'CAMFLOW',
      '--no-halt',
      '--propose-rle',
      '127.0.0.1',
      String(dicom.port),
      bad,
      join(fixtures, 'dx1.rle.dcm'),
    ]).then(
      (x) => x.stdout + x.stderr,
      (e) => `${e.stdout}${e.stderr}`,
    );
    expect(r).toMatch(/Received Store Response \(Error: CannotUnderstand\)/);
    expect(r).toMatch(/Received Store Response \(Success\)/);
    const dx = uidsOf(readFileSync(join(fixtures, 'dx1.rle.dcm')));
    expect(
      await services.store.head(services.config.CAMFLOW_OUTPUT_BUCKET, dicomStorageKey(dx)),
    ).toBeDefined();
  });

  it('serves /readyz and /metrics (outcomes and associations) on its ops port', async () => {
    const ops = `http://127.0.0.1:${dicom.metricsPort}`;
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${ops}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
    // Earlier tests: CT and XA queued, MR skipped; then 1 refused and DX skipped (no rule).
    expect(value(/camflow_dicom_instances_total\{[^}]*outcome="queued"[^}]*\} (\d+)/)).toBe(2);
    expect(value(/camflow_dicom_instances_total\{[^}]*outcome="skipped"[^}]*\} (\d+)/)).toBe(2);
    expect(value(/camflow_dicom_instances_total\{[^}]*outcome="refused"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/camflow_dicom_associations_total\{[^}]*result="rejected"[^}]*\} (\d+)/)).toBe(2);
    for (const phi of PHI) expect(text).not.toContain(phi);
  });

  it('logs no patient names or IDs', () => {
    expect(logs.length).toBeGreaterThan(3);
    for (const line of logs) for (const phi of PHI) expect(line).not.toContain(phi);
  });
});

function uidsOf(bytes: Buffer) {
  const s = bytes.toString('latin1');
  const find = (re: RegExp) => re.exec(s)?.[0] ?? '';
  return {
    studyInstanceUID: find(/1\.2\.826\.0\.1\.3680043\.10\.1010\.1\.\d+/),
    seriesInstanceUID: find(/1\.2\.826\.0\.1\.3680043\.10\.1010\.2\.\d+/),
    sopInstanceUID: find(/1\.2\.826\.0\.1\.3680043\.10\.1010\.3\.\d+\.\d+/),
  };
}

function metaLength(bytes: Buffer): number {
  // (0002,0000) UL group length right after "DICM": tag 4 + VR 2 + length 2 + value 4 = 12.
  return 12 + bytes.readUInt32LE(132 + 8);
}
