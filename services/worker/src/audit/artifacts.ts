/**
 * The audit's pictures, stored next to its document in the output bucket: the atlas drawn over
 * the class's typical image (the mean of a few of its images: anatomy, no single patient) and
 * each finding's examples with the region outlined over their CAM.
 */
import { meanPixels, renderAtlas, renderExample } from '@camflow/audit';
import { type AuditDocument, auditKeys } from '@camflow/contracts';
import { type ModelCard, type Pixels, tensorPixels } from '@camflow/imaging';
import type { AuditDeps } from './deps.js';
import { completedEvents } from './run-images.js';

export interface AuditArtifacts {
  bucket: string;
  atlas?: string;
  /** Per finding (in `findings` order), the example images' keys. */
  findings: string[][];
}

export async function renderAuditArtifacts(
  runId: string,
  doc: AuditDocument,
  typicalIds: string[],
  card: ModelCard,
  deps: AuditDeps,
): Promise<AuditArtifacts> {
  const keys = auditKeys(runId);
  const out: AuditArtifacts = { bucket: deps.outputBucket, findings: [] };
  const exampleIds = doc.findings.flatMap((f) => f.exampleJobs ?? []);
  const events = await completedEvents(deps.redis, [...new Set([...typicalIds, ...exampleIds])]);
  const pixelsOf = async (id: string): Promise<Pixels | undefined> => {
    const e = events.get(id);
    if (!e) return undefined;
    try {
      const object = await deps.store.get(e.source.bucket, e.source.key, {
        maxBytes: deps.maxObjectBytes,
      });
      return await tensorPixels(object.body, card);
    } catch (err) {
      deps.logger.warn(
        { runId, jobId: id, err: (err as Error).message },
        'audit picture: image unreadable; skipped',
      );
      return undefined;
    }
  };
  const typical: Pixels[] = [];
  for (const id of typicalIds.slice(0, 12)) {
    const p = await pixelsOf(id);
    if (p) typical.push(p);
  }
  const background = meanPixels(typical);
  if (background) {
    await deps.store.put(
      deps.outputBucket,
      keys.atlas,
      await renderAtlas(doc.atlas, background),
      'image/png',
    );
    out.atlas = keys.atlas;
  }
  for (const [k, f] of doc.findings.entries()) {
    const stored: string[] = [];
    for (const [i, id] of (f.exampleJobs ?? []).entries()) {
      const cam = events.get(id)?.compactCam;
      const p = cam && (await pixelsOf(id));
      if (!p || !cam) continue;
      await deps.store.put(
        deps.outputBucket,
        keys.example(k, i),
        await renderExample(p, cam, [f.box]),
        'image/png',
      );
      stored.push(keys.example(k, i));
    }
    out.findings.push(stored);
  }
  return out;
}
