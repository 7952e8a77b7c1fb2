// Per-frame DICOM jobs (rules with frames: "each"): the worker explains the frame the job names,
// not frame 0, and its Secondary Capture references that frame. Real Redis, S3 and ONNX Runtime,
// a 3-frame JPEG-LS XA fixture made with dcmtk.
import { join } from 'node:path';
import { type CompletedEvent, QUEUES } from '@camflow/contracts';
import { decodeFrame, parseDicom, readHeader, text } from '@camflow/dicom';
import { createLogger } from '@camflow/telemetry';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../../libs/dicom/test/fixtures.js';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { startWorker, type WorkerService } from '../src/index.js';
import { addJobs, explainJob, pushSeedModel, readEvents } from './helpers.js';

const DATA = 'data';

describe('worker: multi-frame DICOM, one job per frame', () => {
  let svc: TestServices;
  let redis: Redis;
  let realtime: Queue;
  let worker: WorkerService;

  beforeAll(async () => {
    svc = await startTestServices();
    redis = new Redis(svc.config.REDIS_URL, { maxRetriesPerRequest: null });
    realtime = new Queue(QUEUES.realtime, { connection: redis });
    await pushSeedModel(svc.store, svc.config.CAMFLOW_MODEL_BUCKET);
    worker = await startWorker(svc.config, {
      logger: createLogger('worker', 'silent'),
      modelDirectory: join(svc.dir, 'models'),
    });
  });

  afterAll(async () => {
    await worker?.close();
    await realtime?.close();
    await redis?.quit();
    await svc?.close();
  });

  it('explains frames 0, 1 and 2 of one instance, each as itself', async () => {
    const bytes = fixture('xa8.jpeg-ls.dcm');
    const h = readHeader(parseDicom(bytes, 'x7fe00010'));
    expect(h.pixels?.frames).toBe(3);
    // The frames differ, so explaining frame 0 three times would show.
    const frames = await Promise.all([0, 1, 2].map((frame) => decodeFrame(bytes, { frame })));
    expect(frames[1].data).not.toEqual(frames[0].data);
    expect(frames[2].data).not.toEqual(frames[1].data);

    await svc.store.ensureBucket(DATA);
    const key = `dicom/${h.studyInstanceUID}/${h.seriesInstanceUID}/${h.sopInstanceUID}.dcm`;
    await svc.store.put(DATA, key, bytes, 'application/dicom');
    const etag = (await svc.store.head(DATA, key))?.etag;
    const dicom = {
      studyInstanceUID: h.studyInstanceUID!,
      seriesInstanceUID: h.seriesInstanceUID!,
      sopInstanceUID: h.sopInstanceUID!,
    };
    const jobs = [0, 1, 2].map((frame) => {
      const j = explainJob(DATA, { key, etag }, { dicom: frame > 0 ? { frame } : {} });
      j.data.source.dicom = dicom;
      return j;
    });
    expect(new Set(jobs.map((j) => j.id)).size).toBe(3);
    await addJobs(realtime, jobs);
    const ids = new Set(jobs.map((j) => j.id));
    const { events } = await readEvents(
      redis,
      (ev) => ev.filter((e) => ids.has(e.jobId)).length === 3,
      60_000,
    );
    const byJob = new Map(events.map((e) => [e.jobId, e]));
    const done = jobs.map((j) => byJob.get(j.id)!);
    expect(
      done.map((e) => e.type),
      JSON.stringify(done),
    ).toEqual(['job.completed', 'job.completed', 'job.completed']);
    const completed = done as CompletedEvent[];
    const bucket = svc.config.CAMFLOW_OUTPUT_BUCKET;
    const cams: number[][] = [];
    for (const [frame, e] of completed.entries()) {
      expect(e.source.dicom).toEqual(dicom);
      expect(e.image).toEqual({ width: 48, height: 40 });
      const result = JSON.parse(
        Buffer.from((await svc.store.get(bucket, e.outputs.resultKey)).body).toString(),
      );
      cams.push(result.cam.data);
      const sc = parseDicom((await svc.store.get(bucket, e.outputs.dicomKey!)).body);
      expect(text(sc, 'x00200013')).toBe(String(frame + 1));
      const ref = sc.elements.x00082112?.items?.[0]?.dataSet;
      expect(ref && text(ref, 'x00081155')).toBe(dicom.sopInstanceUID);
      expect(ref && text(ref, 'x00081160')).toBe(frame > 0 ? String(frame + 1) : undefined);
    }
    // Each job's CAM comes from its own frame.
    expect(cams[1]).not.toEqual(cams[0]);
    expect(cams[2]).not.toEqual(cams[1]);
  }, 90_000);
});
