// Hospital path end to end with real DICOM peers: Orthanc (the PACS) C-STOREs a compressed
// study to `camflow serve dicom`, a worker explains it, and the Secondary Capture comes back to
// Orthanc by C-STORE, filed in the same study with its reference to the source. Every log line of
// the DICOM service, the worker and the results API, every API answer, the metrics and the raw
// events are checked for the fixture's patient name, ID, birth date and accession number; the
// results API finds the result by its study.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@camflow/config';
import { EVENTS_STREAM } from '@camflow/contracts';
import { type DicomService, startDicomService } from '@camflow/dicom-service';
import { dicomInstanceKey, pushModel } from '@camflow/ingest';
import { type ResultsService, startResults } from '@camflow/results-api';
import { freePort } from '@camflow/storage';
import { startWorker, type WorkerService } from '@camflow/worker';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_PHI } from '../../libs/dicom/test/fixtures.js';
import { hasOrthanc, type Orthanc, startOrthanc } from '../support/orthanc.js';
import { startTestServices, type TestServices } from '../support/services.js';

const fixtures = join(import.meta.dirname, '../fixtures/dicom');
const model = join(import.meta.dirname, '../fixtures/models/xray-clean');
const READER = 'pacs-reader-token-0123456789';

describe.skipIf(!hasOrthanc())('DICOM round trip with Orthanc', () => {
  let svc: TestServices;
  let orthanc: Orthanc;
  let dicom: DicomService;
  let worker: WorkerService;
  let results: ResultsService;
  let sourceTags: Record<string, string>;
  const logs: string[] = [];
  const logger = (name: string) =>
    pino({ level: 'debug', name }, { write: (line: string) => void logs.push(line) });

  beforeAll(async () => {
    svc = await startTestServices();
    const dicomPort = await freePort();
    orthanc = await startOrthanc(join(svc.dir, 'orthanc'), {
      camflow: ['CAMFLOW', '127.0.0.1', dicomPort],
    });
    const config = loadConfig({
      ...svc.env,
      CAMFLOW_DICOM_RULES: JSON.stringify([{ model: 'xray-clean@1', destination: 'pacs' }]),
      CAMFLOW_DICOM_DESTINATIONS: JSON.stringify({
        pacs: { type: 'dimse', host: '127.0.0.1', port: orthanc.dicomPort, aeTitle: 'ORTHANC' },
      }),
      DICOM_ALLOWED_AETS: '["ORTHANC"]',
      CAMFLOW_API_TOKENS: JSON.stringify({ [READER]: { scopes: ['results:read'] } }),
    });
    await pushModel(svc.store, config, {
      onnxPath: join(model, 'model.onnx'),
      cardPath: join(model, 'model.json'),
      name: 'xray-clean',
      version: '1',
    });
    dicom = await startDicomService(config, { port: dicomPort, logger: logger('dicom') });
    worker = await startWorker(config, { logger: logger('worker'), metricsPort: 0 });
    results = await startResults(config, { port: 0, host: '127.0.0.1', logger: logger('results') });
  }, 120_000);

  afterAll(async () => {
    await results?.close();
    await worker?.close();
    await dicom?.close();
    await orthanc?.close();
    await svc?.close();
  });

  test('Orthanc sends a JPEG-LS study; the Secondary Capture lands in the same study', async () => {
    const source = await orthanc.rest<{ ID: string; ParentStudy: string }>(
      '/instances',
      new Uint8Array(readFileSync(join(fixtures, 'mr12.jpeg-ls.dcm'))),
    );
    sourceTags = await orthanc.rest<Record<string, string>>(
      `/instances/${source.ID}/simplified-tags`,
    );
    await orthanc.rest('/modalities/camflow/store', { Resources: [source.ID], Synchronous: true });

    // The C-STORE above returned once camflow stored the instance; the explanation follows.
    const deadline = Date.now() + 90_000;
    let ids: { ID: string }[] = [];
    while (Date.now() < deadline) {
      ids = await orthanc.rest<{ ID: string }[]>(`/studies/${source.ParentStudy}/instances`);
      if (ids.length > 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(ids.length).toBe(2);
    const sc = ids.find((i) => i.ID !== source.ID)!;
    const tags = await orthanc.rest<Record<string, unknown>>(`/instances/${sc.ID}/simplified-tags`);
    expect(tags.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(tags.StudyInstanceUID).toBe(sourceTags.StudyInstanceUID);
    expect(tags.PatientID).toBe(sourceTags.PatientID);
    expect(tags.PatientName).toBe(sourceTags.PatientName);
    expect(tags.AccessionNumber).toBe(sourceTags.AccessionNumber);
    expect(tags.StudyDate).toBe(sourceTags.StudyDate);
    expect(tags.Modality).toBe('OT');
    expect(tags.ImageType).toBe('DERIVED\\SECONDARY');
    expect(String(tags.SeriesDescription)).toMatch(/^Grad-CAM xray-clean@1/);
    expect(tags.SeriesInstanceUID).not.toBe(sourceTags.SeriesInstanceUID);
    expect(tags.SourceImageSequence).toEqual([
      expect.objectContaining({
        ReferencedSOPClassUID: sourceTags.SOPClassUID,
        ReferencedSOPInstanceUID: sourceTags.SOPInstanceUID,
      }),
    ]);
    expect(String(tags.ImageComments)).toMatch(/pneumonia .*not a diagnosis/);
    expect([tags.Rows, tags.Columns].map(Number)).toEqual([50, 62]);
  }, 120_000);

  test('the results API finds the result by study; no answer, metric or event carries PHI', async () => {
    const api = async (path: string, token: string | undefined = READER) => {
      const res = await fetch(`http://127.0.0.1:${results.port}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: res.status, text: await res.text() };
    };
    const json = async <T>(path: string) => JSON.parse((await api(path)).text) as T;
    const study = sourceTags.StudyInstanceUID;
    // The indexer follows the events stream: wait for the run's result.
    let runId = '';
    const deadline = Date.now() + 30_000;
    for (;;) {
      const runs = await json<{ items: { runId: string; completed: number }[] }>('/v1/runs');
      const run = runs.items.find((r) => r.runId.startsWith('dicom-') && r.completed > 0);
      if (run) {
        runId = run.runId;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no DICOM run indexed: ${JSON.stringify(runs)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    type Page = { items: { jobId: string; source: { dicom?: Record<string, string> } }[] };
    const byStudy = await json<Page>(`/v1/runs/${runId}/results?study=${study}`);
    expect(byStudy.items.map((i) => i.source.dicom)).toEqual([
      {
        studyInstanceUID: study,
        seriesInstanceUID: sourceTags.SeriesInstanceUID,
        sopInstanceUID: sourceTags.SOPInstanceUID,
      },
    ]);
    const other = await json<Page>(`/v1/runs/${runId}/results?study=1.2.3.4`);
    expect(other.items).toEqual([]);
    expect((await api(`/v1/runs/${runId}/results?study=PHANTOM`)).status).toBe(400);

    // Everything a client or an operator can read about this instance.
    const jobId = byStudy.items[0].jobId;
    const paths = [
      '/v1/runs',
      `/v1/runs/${runId}`,
      `/v1/runs/${runId}/results`,
      `/v1/jobs/${jobId}`,
      `/v1/runs/${runId}/report`,
      '/metrics',
    ];
    const answers: string[] = [];
    for (const path of paths) {
      const r = await api(path);
      expect(r.status, path).toBe(200);
      answers.push(r.text);
    }
    answers.push(await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text());
    const redis = new Redis(svc.config.REDIS_URL);
    const events = (await redis.xrange(EVENTS_STREAM, '-', '+')).map(([, f]) => f.join(' '));
    const record = JSON.stringify(await redis.hgetall(dicomInstanceKey(sourceTags.SOPInstanceUID)));
    redis.disconnect();
    expect(events.length).toBeGreaterThan(0);
    const phi = [
      ...FIXTURE_PHI,
      sourceTags.PatientName,
      sourceTags.PatientID,
      sourceTags.AccessionNumber,
    ].filter(Boolean);
    const birthDate = new RegExp(`(^|[^0-9])${sourceTags.PatientBirthDate}([^0-9]|$)`);
    expect(sourceTags.PatientBirthDate).toMatch(/^[0-9]{8}$/);
    for (const text of [...answers, ...events, record]) {
      for (const p of phi) expect(text).not.toContain(p);
      expect(text).not.toMatch(birthDate);
    }
  }, 60_000);

  test('no log line carries a patient name or ID', async () => {
    // The worker logs its completion after the delivery the first test saw.
    const deadline = Date.now() + 10_000;
    while (!logs.some((l) => l.includes('job completed')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs.filter((l) => l.includes('DICOM instance received')).length, logs.join('')).toBe(1);
    expect(logs.filter((l) => l.includes('job completed')).length, logs.join('')).toBe(1);
    const phi = [...FIXTURE_PHI, sourceTags.AccessionNumber];
    for (const line of logs) for (const p of phi) expect(line).not.toContain(p);
  });
});
