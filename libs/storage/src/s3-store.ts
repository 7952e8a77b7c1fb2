import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '@camflow/config';
import { PermanentError } from '@camflow/contracts';
import { fastRequest } from './fast-http.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import { MAX_PRESIGN_SECONDS, Presigner } from './presigner.js';

/** Lifetime of the URLs the fast path signs for itself (used at once). */
const FAST_URL_SECONDS = 300;

export type S3Settings = Pick<
  Config,
  'S3_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_FORCE_PATH_STYLE'
>;

/** An S3 client for AWS, MinIO or s3rver (path style and checksums as S3-compatible servers need). */
export function createS3Client(s: S3Settings): S3Client {
  // camflow targets Node 20 on purpose (this SDK line supports it); its upgrade notice is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: s.S3_ENDPOINT,
    region: s.S3_REGION,
    forcePathStyle: s.S3_FORCE_PATH_STYLE ?? Boolean(s.S3_ENDPOINT),
    credentials:
      s.S3_ACCESS_KEY_ID && s.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: s.S3_ACCESS_KEY_ID, secretAccessKey: s.S3_SECRET_ACCESS_KEY }
        : undefined,
    // S3-compatible servers reject the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

const info = (key: string, etag?: string, size?: number, versionId?: string): ObjectInfo => ({
  key,
  etag: etag?.replaceAll('"', ''),
  size,
  versionId,
});

/** ObjectStore over the AWS SDK v3. */
export class S3Store implements ObjectStore {
  private readonly presigner: Presigner;

  constructor(readonly client: S3Client) {
    this.presigner = new Presigner(client);
  }

  static fromConfig(s: S3Settings): S3Store {
    return new S3Store(createS3Client(s));
  }

  /**
   * GET and PUT first go the fast way: a URL presigned here and one plain keep-alive request
   * (UNSIGNED-PAYLOAD: no SHA-256 of the body; over HTTPS, TLS protects it). Anything but a
   * success (an error status, a network fault, addressing this signer does not know) is done
   * again by the SDK, so errors and retries are the SDK's, as before.
   */
  async get(bucket: string, key: string, opts: { maxBytes?: number } = {}) {
    const url = await this.fastUrl(bucket, key, 'GET');
    if (url) {
      const r = await fastRequest('GET', url, { maxBytes: opts.maxBytes }).catch(() => undefined);
      if (r?.status === 200 && r.tooLarge) {
        throw new PermanentError(
          'too-large',
          `s3://${bucket}/${key} is ${r.headers['content-length']} bytes; the limit is ${opts.maxBytes}`,
        );
      }
      if (r?.status === 200) {
        const etag = r.headers.etag;
        const version = r.headers['x-amz-version-id'];
        return {
          body: r.body,
          info: info(
            key,
            etag,
            r.body.byteLength,
            typeof version === 'string' ? version : undefined,
          ),
          contentType: r.headers['content-type'],
        };
      }
    }
    const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (opts.maxBytes !== undefined && (r.ContentLength ?? 0) > opts.maxBytes) {
      (r.Body as Readable | undefined)?.destroy?.();
      throw new PermanentError(
        'too-large',
        `s3://${bucket}/${key} is ${r.ContentLength} bytes; the limit is ${opts.maxBytes}`,
      );
    }
    const body = await (
      r.Body as { transformToByteArray(): Promise<Uint8Array> }
    ).transformToByteArray();
    return {
      body,
      info: info(key, r.ETag, body.byteLength, r.VersionId),
      contentType: r.ContentType,
    };
  }

  async getStream(bucket: string, key: string): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return r.Body as Readable;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return info(key, r.ETag, r.ContentLength, r.VersionId);
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
        return undefined;
      throw err;
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
  ): Promise<void> {
    const url = await this.fastUrl(bucket, key, 'PUT');
    if (url) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const r = await fastRequest('PUT', url, {
        body: bytes,
        headers: { 'content-type': contentType },
      }).catch(() => undefined);
      if (r?.status === 200) return;
    }
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async list(bucket: string, prefix: string, continuationToken?: string, pageSize = 1000) {
    const r = await this.client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: continuationToken,
        MaxKeys: pageSize,
      }),
    );
    return {
      objects: (r.Contents ?? []).map((o) => info(o.Key ?? '', o.ETag, o.Size)),
      next: r.IsTruncated ? r.NextContinuationToken : undefined,
    };
  }

  private fastUrl(bucket: string, key: string, method: 'GET' | 'PUT') {
    return this.presigner
      .presign(bucket, key, FAST_URL_SECONDS, new Date(), method)
      .catch(() => undefined);
  }

  /** A presigned GET; signed here (fast) where the addressing is known, else by the SDK. */
  async presign(bucket: string, key: string, expiresSeconds: number): Promise<string> {
    const fast = await this.presigner.presign(bucket, key, expiresSeconds);
    if (fast) return fast;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: Math.min(MAX_PRESIGN_SECONDS, expiresSeconds),
    });
  }

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch {
      await this.client
        .send(new CreateBucketCommand({ Bucket: bucket }))
        .catch((err: { name?: string }) => {
          if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists')
            throw err;
        });
    }
  }

  close(): void {
    this.client.destroy();
  }
}
