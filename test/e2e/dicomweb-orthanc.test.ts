// STOW-RS both ways with a real DICOMweb peer: Orthanc's DICOMweb plugin (as a DICOMweb client)
// sends a study to camflow's ingest (`POST /dicomweb/studies`, Bearer token with dicom:write), a
// worker explains it, and the worker's STOW-RS delivery puts the Secondary Capture into
// Orthanc's own DICOMweb server, filed in the same study. Log lines are checked for PHI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@camflow/config';
import { type IngestService, pushModel, startIngest } from '@camflow/ingest';
import { freePort } from '@camflow/storage';
import { startWorker, type WorkerService } from '@camflow/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_PHI } from '../../libs/dicom/test/fixtures.js';
import { hasOrthanc, type Orthanc, startOrthanc } from '../support/orthanc.js';
import { startTestServices, type TestServices } from '../support/services.js';

const fixtures = join(import.meta.dirname, '../fixtures/dicom');
const model = join(import.meta.dirname, '../fixtures/models/xray-clean');
const STOW_TOKEN = 'orthanc-stow-token-0123456789';

describe.skipIf(!hasOrthanc())('STOW-RS both ways with Orthanc', () => {
  let svc: TestServices;
  let orthanc: Orthanc;
  let ingest: IngestService;
  let worker: WorkerService;
  const logs: string[] = [];
  const logger = (name: string) =>
    pino({ level: 'debug', name }, { write: (line: string) => void logs.push(line) });

  beforeAll(async () => {
    svc = await startTestServices();
    const ingestPort = await freePort();
    orthanc = await startOrthanc(
      join(svc.dir, 'orthanc'),
      {},
      {
        dicomWebServers: {
          camflow: {
            Url: `http://127.0.0.1:${ingestPort}/dicomweb/`,
            HttpHeaders: { Authorization: `Bearer ${STOW_TOKEN}` },
          },
        },
      },
    );
    const config = loadConfig({
      ...svc.env,
      CAMFLOW_API_TOKENS: JSON.stringify({ [STOW_TOKEN]: { scopes: ['dicom:write'] } }),
      CAMFLOW_DICOM_RULES: JSON.stringify([{ model: 'xray-clean@1', destination: 'web' }]),
      CAMFLOW_DICOM_DESTINATIONS: JSON.stringify({
        web: { type: 'dicomweb', url: `${orthanc.url}/dicom-web` },
      }),
    });
    await pushModel(svc.store, config, {
      onnxPath: join(model, 'model.onnx'),
      cardPath: join(model, 'model.json'),
      name: 'xray-clean',
      version: '1',
    });
    ingest = await startIngest(config, {
      port: ingestPort,
      host: '127.0.0.1',
      expansion: false,
      logger: logger('ingest'),
    });
    worker = await startWorker(config, { logger: logger('worker') });
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await ingest?.close();
    await orthanc?.close();
    await svc?.close();
  });

  test("Orthanc's STOW-RS client sends a study; the Secondary Capture comes back by STOW-RS", async () => {
    const source = await orthanc.rest<{ ID: string; ParentStudy: string }>(
      '/instances',
      new Uint8Array(readFileSync(join(fixtures, 'rgb8.jpeg-baseline.dcm'))),
    );
    const sourceTags = await orthanc.rest<Record<string, string>>(
      `/instances/${source.ID}/simplified-tags`,
    );
    // Orthanc checks camflow's Store Instances Response: every instance referenced, none failed.
    await orthanc.rest('/dicom-web/servers/camflow/stow', {
      Resources: [source.ID],
      Synchronous: true,
    });

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
    expect(tags.SourceImageSequence).toEqual([
      expect.objectContaining({ ReferencedSOPInstanceUID: sourceTags.SOPInstanceUID }),
    ]);
    expect([tags.Rows, tags.Columns].map(Number)).toEqual([
      Number(sourceTags.Rows),
      Number(sourceTags.Columns),
    ]);
  }, 120_000);

  test('no log line carries a patient name or ID', () => {
    expect(logs.some((l) => l.includes('DICOM instance received'))).toBe(true);
    for (const line of logs) for (const phi of FIXTURE_PHI) expect(line).not.toContain(phi);
  });
});
