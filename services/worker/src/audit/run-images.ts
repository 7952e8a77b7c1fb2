/**
 * A run's results as audit images, read from the results API's Redis index page by page (a
 * 100k-image run is never held at once): the stored job.completed events, which carry each
 * image's compact CAM, and the run's manifest labels.
 */
import type { AuditImage } from '@camflow/audit';
import { auditClassNames, classProbabilities, labelToClass, predictedOf } from '@camflow/audit';
import { type CompletedEvent, completionEventSchema, redisKeys } from '@camflow/contracts';
import type { ModelCard } from '@camflow/imaging';
import type { Redis } from 'ioredis';

export interface RunImagesPage {
  images: AuditImage[];
  /** Completed results without a compact CAM (older workers): counted, not audited. */
  withoutCam: number;
}

export async function* runAuditImages(
  redis: Redis,
  runId: string,
  card: ModelCard,
  pageSize = 500,
): AsyncGenerator<RunImagesPage> {
  const order = redisKeys.runOrder(runId);
  for (let start = 0; ; start += pageSize) {
    const ids = await redis.zrange(order, start, start + pageSize - 1);
    if (ids.length === 0) return;
    const [raw, labels] = await Promise.all([
      redis.mget(...ids.map((id) => redisKeys.result(id))),
      redis.hmget(redisKeys.runLabels(runId), ...ids),
    ]);
    const page: RunImagesPage = { images: [], withoutCam: 0 };
    ids.forEach((id, i) => {
      const parsed = raw[i]
        ? completionEventSchema.safeParse(JSON.parse(raw[i] as string))
        : undefined;
      if (!parsed?.success || parsed.data.type !== 'job.completed') return;
      const e = parsed.data as CompletedEvent;
      if (!e.compactCam) {
        page.withoutCam++;
        return;
      }
      const probs = classProbabilities(e.prediction.scores, card.output.activation);
      const names = auditClassNames(e.prediction.scores.length, card.output.classes);
      const label =
        labels[i] === null ? undefined : labelToClass(JSON.parse(labels[i] as string), names);
      page.images.push({
        id,
        example: `s3://${e.source.bucket}/${e.source.key}`,
        numOutputs: e.prediction.scores.length,
        probs,
        predicted: predictedOf(probs),
        target: e.prediction.target,
        ...(label !== undefined && { label }),
        cam: e.compactCam,
      });
    });
    yield page;
    if (ids.length < pageSize) return;
  }
}

/** The stored events of some jobs (for their sources and CAMs), by job id. */
export async function completedEvents(
  redis: Redis,
  jobIds: string[],
): Promise<Map<string, CompletedEvent>> {
  const out = new Map<string, CompletedEvent>();
  if (jobIds.length === 0) return out;
  const raw = await redis.mget(...jobIds.map((id) => redisKeys.result(id)));
  jobIds.forEach((id, i) => {
    const parsed = raw[i]
      ? completionEventSchema.safeParse(JSON.parse(raw[i] as string))
      : undefined;
    if (parsed?.success && parsed.data.type === 'job.completed') out.set(id, parsed.data);
  });
  return out;
}
