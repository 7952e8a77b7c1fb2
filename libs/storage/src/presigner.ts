/**
 * Presigned GET (and PUT) URLs (AWS Signature Version 4, query-string form) computed here rather than by
 * the SDK's `getSignedUrl`, which builds and runs a whole middleware stack per URL (~0.5 ms): a
 * results page presigns two URLs per item. Here a URL is two SHA-256 HMACs with a signing key
 * cached per day, region and credentials.
 *
 * The steps are the ones AWS documents ("Authenticating Requests: Using Query Parameters"):
 * canonical request (GET, URI-encoded path, sorted encoded query, `host` header,
 * UNSIGNED-PAYLOAD) -> string to sign (algorithm, timestamp, scope, SHA-256 of the canonical
 * request) -> signature = HMAC(signing key, string to sign). The result equals the SDK's URL for
 * the same inputs (tested), including its `x-id=GetObject` parameter.
 */
import { createHash, createHmac } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Where a bucket's objects are addressed: `${origin}${prefix}/${key}` with `host` signed. */
interface Target {
  origin: string;
  host: string;
  prefix: string;
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const encodePath = (key: string) => key.split('/').map(encode).join('/');
const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data).digest();

/** `20261127T221501Z` */
function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** DNS-compatible bucket names without dots can be virtual-hosted over HTTPS. */
const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The client settings that decide addressing; fixed for a client's life, read once. */
interface Addressing {
  region: string;
  /** A custom endpoint (MinIO, s3rver), else AWS. */
  endpoint?: { protocol: string; host: string; base: string };
  forcePathStyle: boolean;
  /** FIPS, dual-stack or accelerate endpoints: left to the SDK. */
  special: boolean;
}

/** SigV4 presigned URLs live at most 7 days; S3 refuses longer ones, so longer asks are capped. */
export const MAX_PRESIGN_SECONDS = 604_800;

export class Presigner {
  private addressing?: Promise<Addressing>;
  private creds?: Creds;
  private keyCache?: { scope: string; key: Buffer; accessKeyId: string };

  constructor(private readonly client: S3Client) {}

  /**
   * The URL, or undefined where this signer does not know the addressing (a non-standard AWS
   * partition, FIPS/dual-stack endpoints, a bucket that needs path style on AWS): the caller then
   * uses the SDK.
   */
  async presign(
    bucket: string,
    key: string,
    expiresSeconds: number,
    now = new Date(),
    method: 'GET' | 'PUT' = 'GET',
  ): Promise<string | undefined> {
    // URL parsers (Node's, browsers') collapse "." and ".." segments: the request would reach
    // another key than the one signed. The SDK sends such keys verbatim; leave them to it.
    if (key.split('/').some((s) => s === '.' || s === '..')) return undefined;
    if (!this.addressing) {
      this.addressing = this.readAddressing();
      this.addressing.catch(() => {
        this.addressing = undefined; // read again next time
      });
    }
    const a = await this.addressing;
    const { region } = a;
    const target = targetOf(a, bucket);
    if (!target) return undefined;
    const creds = await this.credentials();
    const expires = Math.max(1, Math.min(MAX_PRESIGN_SECONDS, Math.floor(expiresSeconds)));
    const date = amzDate(now);
    const day = date.slice(0, 8);
    const scope = `${day}/${region}/s3/aws4_request`;
    const query: [string, string][] = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
      ['X-Amz-Credential', `${creds.accessKeyId}/${scope}`],
      ['X-Amz-Date', date],
      ['X-Amz-Expires', String(expires)],
      ['X-Amz-SignedHeaders', 'host'],
      ['x-id', method === 'GET' ? 'GetObject' : 'PutObject'],
    ];
    if (creds.sessionToken) query.push(['X-Amz-Security-Token', creds.sessionToken]);
    const canonicalQuery = query
      .map(([k, v]) => [encode(k), encode(v)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const path = `${target.prefix}/${encodePath(key)}`;
    const canonicalRequest = [
      method,
      path,
      canonicalQuery,
      `host:${target.host}\n`,
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      date,
      scope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    const signature = hmac(this.signingKey(creds, day, region, scope), stringToSign).toString(
      'hex',
    );
    // The signature joins the query in sorted place, as the SDK writes it.
    const full = [...canonicalQuery.split('&'), `X-Amz-Signature=${signature}`].sort().join('&');
    return `${target.origin}${path}?${full}`;
  }

  private async credentials(): Promise<Creds> {
    const c = this.creds;
    // Refresh temporary credentials 5 minutes before they expire (the SDK's own margin).
    if (c && (!c.expiration || c.expiration.getTime() - Date.now() > 300_000)) return c;
    const fresh = (await this.client.config.credentials()) as Creds;
    this.creds = fresh;
    return fresh;
  }

  private signingKey(creds: Creds, day: string, region: string, scope: string): Buffer {
    const cached = this.keyCache;
    if (cached && cached.scope === scope && cached.accessKeyId === creds.accessKeyId) {
      return cached.key;
    }
    const key = hmac(
      hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 's3'),
      'aws4_request',
    );
    this.keyCache = { scope, key, accessKeyId: creds.accessKeyId };
    return key;
  }

  private async readAddressing(): Promise<Addressing> {
    const config = this.client.config as unknown as {
      region: () => Promise<string>;
      endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
      forcePathStyle?: boolean;
      useFipsEndpoint?: () => Promise<boolean>;
      useDualstackEndpoint?: () => Promise<boolean>;
      useAccelerateEndpoint?: boolean;
    };
    const special =
      Boolean(config.useAccelerateEndpoint) ||
      Boolean(await config.useFipsEndpoint?.()) ||
      Boolean(await config.useDualstackEndpoint?.());
    const e = config.endpoint ? await config.endpoint() : undefined;
    return {
      region: await config.region(),
      endpoint: e && {
        protocol: e.protocol.replace(/:?$/, ':'),
        host: e.port ? `${e.hostname}:${e.port}` : e.hostname,
        base: e.path.replace(/\/+$/, ''),
      },
      forcePathStyle: Boolean(config.forcePathStyle),
      special,
    };
  }
}

/** Where `bucket`'s objects are addressed, or undefined where the SDK should sign. */
function targetOf(a: Addressing, bucket: string): Target | undefined {
  if (a.special) return undefined;
  const e = a.endpoint;
  if (e) {
    if (a.forcePathStyle) {
      return {
        origin: `${e.protocol}//${e.host}`,
        host: e.host,
        prefix: `${e.base}/${encode(bucket)}`,
      };
    }
    if (!VIRTUAL_HOSTABLE.test(bucket)) return undefined;
    const host = `${bucket}.${e.host}`;
    return { origin: `${e.protocol}//${host}`, host, prefix: e.base };
  }
  // AWS itself, standard partition only (China, GovCloud and ISO regions differ in host).
  if (a.forcePathStyle || !VIRTUAL_HOSTABLE.test(bucket)) return undefined;
  if (!/^[a-z]{2}-[a-z]+-\d$/.test(a.region) || /^(cn|us-gov|us-iso)/.test(a.region)) {
    return undefined;
  }
  const host = `${bucket}.s3.${a.region}.amazonaws.com`;
  return { origin: `https://${host}`, host, prefix: '' };
}
