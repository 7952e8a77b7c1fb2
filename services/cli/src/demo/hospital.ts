/**
 * The demo's hospital path, when Orthanc is installed: Orthanc plays the PACS, `camflow serve
 * dicom` receives a study from it by C-STORE, the demo's worker explains each image and
 * C-STOREs a Secondary Capture back, and the demo prints where to see the study in Orthanc.
 * Without Orthanc it says how to install it and the rest of the demo runs as before.
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { encodeGreyInstance } from '@camflow/dicom';
import { synthesizeSample } from '@camflow/imaging';
import { freePort } from '@camflow/storage';
import { hasOrthanc, ORTHANC_INSTALL, type Orthanc, startOrthanc } from './orthanc.js';
import { type ServiceProcess, startServiceProcess } from './service-process.js';

/** The PACS, the DICOM service and the settings the demo's worker needs to send results back. */
export interface HospitalPlan {
  /** Environment for every service of the demo (rules and destination); empty without Orthanc. */
  env: Record<string, string>;
  ports?: { orthancHttp: number; orthancDicom: number; camflowDicom: number };
}

const MODEL = 'xray-clean@1';

/** Picks ports and settings before the demo's services start (the worker reads them at start). */
export async function planHospital(): Promise<HospitalPlan> {
  if (!hasOrthanc()) return { env: {} };
  const ports = {
    orthancHttp: await freePort(),
    orthancDicom: await freePort(),
    camflowDicom: await freePort(),
  };
  return {
    ports,
    env: {
      DICOM_PORT: String(ports.camflowDicom),
      DICOM_AE_TITLE: 'CAMFLOW',
      DICOM_ALLOWED_AETS: '["ORTHANC"]',
      CAMFLOW_DICOM_RULES: JSON.stringify([{ model: MODEL, destination: 'pacs' }]),
      CAMFLOW_DICOM_DESTINATIONS: JSON.stringify({
        pacs: { type: 'dimse', host: '127.0.0.1', port: ports.orthancDicom, aeTitle: 'ORTHANC' },
      }),
    },
  };
}

export interface Hospital {
  orthanc: Orthanc;
  close(): Promise<void>;
}

/** Starts Orthanc and `camflow serve dicom` (logs under `dir`); undefined without Orthanc. */
export async function startHospital(
  plan: HospitalPlan,
  dir: string,
  env: Record<string, string>,
): Promise<Hospital | undefined> {
  if (!plan.ports) return undefined;
  const { ports } = plan;
  const dicom: ServiceProcess = startServiceProcess('dicom', env, join(dir, 'logs', 'dicom.log'));
  let orthanc: Orthanc | undefined;
  try {
    orthanc = await startOrthanc(join(dir, 'orthanc'), {
      httpPort: ports.orthancHttp,
      dicomPort: ports.orthancDicom,
      modalities: { camflow: ['CAMFLOW', '127.0.0.1', ports.camflowDicom] },
    });
    await waitForPort(ports.camflowDicom, dicom);
  } catch (err) {
    await orthanc?.close();
    await dicom.stop();
    throw err;
  }
  const pacs = orthanc;
  return {
    orthanc: pacs,
    close: async () => {
      await dicom.stop();
      await pacs.close();
    },
  };
}

/** Why the hospital path was skipped, for the demo's output. */
export const HOSPITAL_MISSING = `hospital path: skipped, Orthanc is not installed (${ORTHANC_INSTALL}); with it the demo also sends a study from a PACS to camflow by DICOM C-STORE and gets its explanations back in the PACS`;

/**
 * A 2-image study of phantoms goes from Orthanc to camflow; resolves once both Secondary
 * Captures are back in the same study in Orthanc, with what to print.
 */
export async function hospitalRound(h: Hospital, seed: number): Promise<string[]> {
  const images = 2;
  const ids: string[] = [];
  let studyId = '';
  for (let i = 0; i < images; i++) {
    const sample = synthesizeSample({ count: images, seed, size: 256, shortcut: 1 }, i);
    // 12-bit values, as a digital X-ray detector stores them.
    const pixels = Uint16Array.from(sample.image, (v) => v * 16);
    const { bytes } = encodeGreyInstance({
      pixels,
      width: sample.size,
      height: sample.size,
      seed: `camflow-demo-${seed}`,
      instanceNumber: i + 1,
      patientName: 'DEMO^PHANTOM',
      patientID: 'DEMO-0001',
      accessionNumber: 'DEMO0001',
      studyDescription: 'camflow demo chest phantom',
    });
    const r = await h.orthanc.rest<{ ID: string; ParentStudy: string }>('/instances', bytes);
    ids.push(r.ID);
    studyId = r.ParentStudy;
  }
  const started = performance.now();
  await h.orthanc.rest('/modalities/camflow/store', { Resources: [studyId], Synchronous: true });
  const sent = performance.now();
  for (;;) {
    const instances = await h.orthanc.rest<{ ID: string }[]>(`/studies/${studyId}/instances`);
    if (instances.length >= 2 * images) break;
    if (performance.now() - sent > 120_000) {
      throw new Error(
        `the PACS got ${instances.length - images} of ${images} explanations back within 120 s (see logs/dicom.log and logs/worker.log)`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const back = (performance.now() - sent) / 1000;
  return [
    `  hospital: Orthanc (the PACS) sent a ${images}-image study to camflow serve dicom by C-STORE (${((sent - started) / 1000).toFixed(2)} s); ${images} Grad-CAM Secondary Captures were back in the same study ${back.toFixed(2)} s later`,
    `  hospital study in Orthanc: ${h.orthanc.url}/app/explorer.html#study?uuid=${studyId}`,
  ];
}

/** Resolves once something listens on `port`; fails if the service exits first. */
async function waitForPort(port: number, proc: ServiceProcess, timeoutMs = 30_000) {
  const started = Date.now();
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error('camflow serve dicom exited at start');
    const open = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() - started > timeoutMs)
      throw new Error(`camflow serve dicom did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
