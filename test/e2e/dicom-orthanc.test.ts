// Hospital path end to end with real DICOM peers: Orthanc (the PACS) C-STOREs a compressed
// study to `camflow serve dicom`, a worker explains it, and the Secondary Capture comes back to
// Orthanc by C-STORE, filed in the same study with its reference to the source. Every log line of
// the DICOM service and the worker is checked for the fixtures' patient names and IDs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@camflow/config';
import { type DicomService, startDicomService } from '@camflow/dicom-service';
import { pushModel } from '@camflow/ingest';
import { freePort } from '@camflow/storage';
import { startWorker, type WorkerService } from '@camflow/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_PHI } from '../../libs/dicom/test/fixtures.js';
import { hasOrthanc, type Orthanc, startOrthanc } from '../support/orthanc.js';
import { startTestServices, type TestServices } from '../support/services.js';

const fixtures = join(import.meta.dirname, '../fixtures/dicom');
const model = join(import.meta.dirname, '../fixtures/models/xray-clean');

describe.skipIf(!hasOrthanc())('DICOM round trip with Orthanc', () => {
  let svc: TestServices;
  let orthanc: Orthanc;
  let dicom: DicomService;
  let worker: WorkerService;
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
    });
    await pushModel(svc.store, config, {
      onnxPath: join(model, 'model.onnx'),
      cardPath: join(model, 'model.json'),
      name: 'xray-clean',
      version: '1',
    });
    dicom = await startDicomService(config, { port: dicomPort, logger: logger('dicom') });
    worker = await startWorker(config, { logger: logger('worker') });
  }, 120_000);

  afterAll(async () => {
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
    const sourceTags = await orthanc.rest<Record<string, string>>(
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

  test('no log line carries a patient name or ID', async () => {
    // The worker logs its completion after the delivery the first test saw.
    const deadline = Date.now() + 10_000;
    while (!logs.some((l) => l.includes('job completed')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs.filter((l) => l.includes('DICOM instance received')).length, logs.join('')).toBe(1);
    expect(logs.filter((l) => l.includes('job completed')).length, logs.join('')).toBe(1);
    for (const line of logs) for (const phi of FIXTURE_PHI) expect(line).not.toContain(phi);
  });
});
