// STOW-RS on the ingest service with real Redis and S3: tokens and media types checked, each
// part through the DICOM intake (stored as received, routed, queued or skipped), the standard
// Store Instances Response (ReferencedSOPSequence, FailedSOPSequence with FailureReason), and no
// patient data in any log line or answer.
import { randomBytes } from 'node:crypto';
import { dicomStorageKey, type ExplainJob, QUEUES } from '@camflow/contracts';
import { parseDicom, readHeader } from '@camflow/dicom';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_PHI, fixture } from '../../../libs/dicom/test/fixtures.js';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { dicomInstanceKey, type IngestService, startIngest } from '../src/index.js';

const WRITER = 'stow-writer-token-0123456789';
const READER = 'stow-reader-token-0123456789';
const CT = fixture('ct16s.jpeg-ls.dcm');
const MR = fixture('mr12.rle.dcm');
const uids = (bytes: Uint8Array) => readHeader(parseDicom(bytes, 'x7fe00010'));

/** A STOW-RS body: one application/dicom part per file. */
function multipart(files: Uint8Array[], partType = 'application/dicom') {
  const boundary = `b-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const f of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\n\r\n`), Buffer.from(f));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}

describe('STOW-RS: POST /dicomweb/studies', () => {
  let ts: TestServices;
  let ingest: IngestService;
  let redis: Redis;
  let realtime: Queue<ExplainJob>;
  const logs: string[] = [];
  const post = async (path: string, body: Buffer | string, contentType: string, token = WRITER) => {
    const res = await fetch(`http://127.0.0.1:${ingest.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(token && { authorization: `Bearer ${token}` }) },
      body,
    });
    const text = await res.text();
    logs.push(text);
    return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(text) };
  };

  beforeAll(async () => {
    ts = await startTestServices({
      env: {
        CAMFLOW_API_TOKENS: JSON.stringify({
          [WRITER]: { scopes: ['dicom:write'] },
          [READER]: { scopes: ['results:read'] },
        }),
        CAMFLOW_DICOM_RULES: JSON.stringify([{ model: 'xray@1', modality: 'CT' }]),
      },
    });
    ingest = await startIngest(ts.config, {
      port: 0,
      host: '127.0.0.1',
      expansion: false,
      logger: pino({ level: 'debug' }, { write: (l: string) => void logs.push(l) }),
    });
    redis = new Redis(ts.redis.url);
    realtime = new Queue<ExplainJob>(QUEUES.realtime, { connection: redis });
  });

  afterAll(async () => {
    await realtime?.close();
    redis?.disconnect();
    await ingest?.close();
    await ts?.close();
  });

  test('asks for a token with the dicom:write scope', async () => {
    const { body, contentType } = multipart([CT]);
    expect((await post('/dicomweb/studies', body, contentType, '')).status).toBe(401);
    const r = await post('/dicomweb/studies', body, contentType, READER);
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/dicom:write/);
  });

  test('refuses other media types with what to send', async () => {
    const bare = await post('/dicomweb/studies', Buffer.from(CT), 'application/dicom');
    expect(bare.status).toBe(415);
    expect(bare.body.message).toMatch(/multipart\/related; type="application\/dicom"/);
    const json = multipart([CT]);
    const meta = await post(
      '/dicomweb/studies',
      json.body,
      json.contentType.replace('type="application/dicom"', 'type="application/dicom+json"'),
    );
    expect(meta.status).toBe(415);
    const cut = multipart([CT]);
    const broken = await post(
      '/dicomweb/studies',
      cut.body.subarray(0, cut.body.length - 40),
      cut.contentType,
    );
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/part 1 is not closed/);
    const empty = await post('/dicomweb/studies', '', cut.contentType);
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/no body/);
  });

  test('stores every instance as received, queues the CT by its rule, skips the MR', async () => {
    const { body, contentType } = multipart([CT, MR]);
    const r = await post('/dicomweb/studies', body, contentType);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/dicom\+json/);
    const ct = uids(CT);
    const mr = uids(MR);
    expect(r.body['00081198']).toBeUndefined();
    expect(r.body['00081199'].Value).toEqual([
      {
        '00081150': { vr: 'UI', Value: [ct.sopClassUID] },
        '00081155': { vr: 'UI', Value: [ct.sopInstanceUID] },
      },
      {
        '00081150': { vr: 'UI', Value: [mr.sopClassUID] },
        '00081155': { vr: 'UI', Value: [mr.sopInstanceUID] },
      },
    ]);
    const bucket = ts.config.CAMFLOW_OUTPUT_BUCKET;
    for (const [bytes, h] of [
      [CT, ct],
      [MR, mr],
    ] as const) {
      const key = dicomStorageKey({
        studyInstanceUID: h.studyInstanceUID!,
        seriesInstanceUID: h.seriesInstanceUID!,
        sopInstanceUID: h.sopInstanceUID!,
      });
      const stored = await ts.store.get(bucket, key);
      expect(Buffer.from(stored.body).equals(Buffer.from(bytes))).toBe(true);
    }
    const jobs = await realtime.getJobs(['waiting', 'prioritized']);
    expect(jobs.map((j) => j.data.source.dicom)).toEqual([
      {
        studyInstanceUID: ct.studyInstanceUID,
        seriesInstanceUID: ct.seriesInstanceUID,
        sopInstanceUID: ct.sopInstanceUID,
      },
    ]);
    const skipped = await redis.hgetall(dicomInstanceKey(mr.sopInstanceUID!));
    expect(skipped.status).toBe('skipped');
    expect(skipped.reason).toMatch(/no rule matches .*modality MR/);
  });

  test('the study path: an instance of another study fails (A901), the rest is stored (202)', async () => {
    const ct = uids(CT);
    const { body, contentType } = multipart([MR, CT]);
    const r = await post(`/dicomweb/studies/${ct.studyInstanceUID}`, body, contentType);
    expect(r.status).toBe(202);
    expect(r.body['00081198'].Value).toEqual([
      {
        '00081150': { vr: 'UI', Value: [uids(MR).sopClassUID] },
        '00081155': { vr: 'UI', Value: [uids(MR).sopInstanceUID] },
        '00081197': { vr: 'US', Value: [0xa901] },
      },
    ]);
    expect(r.body['00081199'].Value).toHaveLength(1);
  });

  test('nothing storable: 409 with "cannot understand" (C000) per part', async () => {
    const refusals = () => logs.filter((l) => l.includes('STOW-RS instance refused')).length;
    const before = refusals();
    const truncated = CT.subarray(0, 600);
    const notDicom = Buffer.from('not a DICOM file at all');
    const { body, contentType } = multipart([truncated, notDicom]);
    const r = await post('/dicomweb/studies', body, contentType);
    expect(r.status).toBe(409);
    expect(r.body['00081199']).toBeUndefined();
    const reasons = r.body['00081198'].Value.map(
      (i: Record<string, { Value: unknown[] }>) => i['00081197'].Value[0],
    );
    expect(reasons).toEqual([0xc000, 0xc000]);
    expect(refusals() - before).toBe(2);
  });

  test('no log line or answer carries a patient name or ID', () => {
    expect(logs.some((l) => l.includes('DICOM instance received'))).toBe(true);
    for (const line of logs) for (const phi of FIXTURE_PHI) expect(line).not.toContain(phi);
  });
});
