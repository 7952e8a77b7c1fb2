import type { ObjectStore } from '@camflow/storage';
import type { Logger } from '@camflow/telemetry';
import type { Redis } from 'ioredis';

/** What the route modules share. */
export interface RouteContext {
  redis: Redis;
  store: ObjectStore;
  logger: Logger;
  /** Expiry of overlay URLs in API answers (seconds). */
  overlayUrlExpirySeconds: number;
  /** Expiry of overlay URLs in reports, which are saved and opened later (seconds). */
  reportUrlExpirySeconds: number;
  /** Gallery size of a report (flagged first). */
  reportGalleryLimit: number;
  /** Results a report reads for its statistics and plots. */
  reportScanLimit: number;
  /** Signs read-only browser links (links.ts). */
  linkKey: Buffer;
}
