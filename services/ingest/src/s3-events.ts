import { z } from 'zod';
import { HttpError, parseBody } from './http-error.js';

// Notifications carry many more fields than these (and senders add new ones): keep them.
const recordSchema = z
  .object({
    eventName: z.string().min(1),
    eventTime: z.string().optional(),
    s3: z
      .object({
        bucket: z.object({ name: z.string().min(1) }).passthrough(),
        object: z
          .object({
            key: z.string().min(1),
            eTag: z.string().optional(),
            versionId: z.string().optional(),
            size: z.number().optional(),
          })
          .passthrough(),
      })
      .passthrough(),
  })
  .passthrough();

/**
 * AWS S3 event notifications (`{"Records": [...]}`) and MinIO webhook bodies (the same Records
 * plus top-level `EventName` and `Key`). AWS's `s3:TestEvent` has no Records and yields none.
 */
const notificationSchema = z
  .object({
    Records: z.array(recordSchema).max(1000).optional(),
    EventName: z.string().optional(),
    Key: z.string().optional(),
  })
  .passthrough();

/** One notification record, with its key decoded. */
export interface NotificationRecord {
  eventName: string;
  bucket: string;
  key: string;
  etag?: string;
  versionId?: string;
  size?: number;
  /** The UTC day of the event, `yyyymmdd` (when it happened, so redeliveries land in one run). */
  day: string;
}

/** Parses a notification body; throws a 400 HttpError naming what is malformed. */
export function parseNotification(body: unknown, now = new Date()): NotificationRecord[] {
  const n = parseBody(notificationSchema, body);
  return (n.Records ?? []).map((r, i) => {
    const time = r.eventTime ? new Date(r.eventTime) : now;
    return {
      eventName: r.eventName,
      bucket: r.s3.bucket.name,
      key: decodeKey(r.s3.object.key, i),
      etag: r.s3.object.eTag || undefined,
      versionId: r.s3.object.versionId || undefined,
      size: r.s3.object.size,
      day: utcDay(Number.isNaN(time.getTime()) ? now : time),
    };
  });
}

/** S3 and MinIO URL-encode keys in notifications, with '+' for spaces (a real '+' is %2B). */
export function decodeKey(raw: string, index = 0): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new HttpError(400, 'validation', `Records.${index}.s3.object.key: bad URL encoding`);
  }
}

/** True for the events that announce a new object version (Put, Post, Copy, multipart). */
export function isObjectCreated(eventName: string): boolean {
  return /^(s3:)?ObjectCreated:/.test(eventName);
}

/** `yyyymmdd` in UTC. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}
