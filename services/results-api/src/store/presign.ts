import type { CompletionEvent } from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';

/** Presigned overlay URLs for completed events (undefined for failed ones or on error). */
export async function overlayUrls(
  store: ObjectStore,
  events: CompletionEvent[],
  expiresSeconds: number,
): Promise<(string | undefined)[]> {
  return Promise.all(
    events.map((e) =>
      e.type === 'job.completed'
        ? store.presign(e.bucket, e.outputs.overlayKey, expiresSeconds).catch(() => undefined)
        : undefined,
    ),
  );
}
