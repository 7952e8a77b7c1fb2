import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  etag?: string;
  size?: number;
  versionId?: string;
}

/** The object store camflow uses: S3, MinIO or s3rver behind one small interface. */
export interface ObjectStore {
  /** Reads a whole object; `maxBytes` guards memory (larger objects fail permanently). */
  get(
    bucket: string,
    key: string,
    opts?: { maxBytes?: number },
  ): Promise<{ body: Uint8Array; info: ObjectInfo; contentType?: string }>;
  /** Streams an object (manifests). */
  getStream(bucket: string, key: string): Promise<Readable>;
  /** Metadata, or undefined when the object does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  put(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** One page of a listing; `next` continues it. */
  list(
    bucket: string,
    prefix: string,
    continuationToken?: string,
    pageSize?: number,
  ): Promise<{ objects: ObjectInfo[]; next?: string }>;
  /** A time-limited GET URL. */
  presign(bucket: string, key: string, expiresSeconds: number): Promise<string>;
  ensureBucket(bucket: string): Promise<void>;
  close(): void;
}
