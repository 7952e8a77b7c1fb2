import { KEY_RULES, keyViolation } from '@camflow/contracts';

/**
 * s3rver maps keys onto its folder: `..` segments write outside it, and a segment longer than
 * the file system allows crashes it (ENAMETOOLONG). The embedded server is for development,
 * but it still refuses such requests before s3rver sees them, with S3's own error shape.
 */
// s3rver keeps `<segment>._S3rver_metadata.json` beside each object: leave room for it.
export const MAX_SEGMENT_BYTES = 200;

/** Why a request path (`/<bucket>/<key>`, path-style) or copy source is refused, or undefined. */
export function unsafeRequestPath(rawPath: string): string | undefined {
  let parts: string[];
  try {
    parts = rawPath.replace(/^\//, '').split('/').map(decodeURIComponent);
  } catch {
    return 'bad percent-encoding';
  }
  const [bucket, ...rest] = parts;
  if (bucket === '.' || bucket === '..') return 'bucket may not be "." or ".."';
  if (rest.length === 0) return undefined;
  return unsafeKey(rest.join('/'));
}

/** Why a key or listing prefix is refused (the contracts' key policy plus file-name lengths). */
export function unsafeKey(key: string): string | undefined {
  // A trailing "/" is a folder placeholder or a prefix: allowed here.
  const v = keyViolation(key, { prefix: true });
  if (v) return `key ${JSON.stringify(key.slice(0, 200))}: ${KEY_RULES[v.rule]}`;
  const long = key.split('/').find((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES);
  if (long !== undefined) return `a key segment is over ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

interface KoaLikeContext {
  path: string;
  url: string;
  query: Record<string, unknown>;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}

/** Koa middleware for s3rver: answers 400 InvalidArgument for unsafe paths, copy sources, prefixes. */
export async function s3rverGuard(ctx: KoaLikeContext, next: () => Promise<unknown>) {
  const rawPath = ctx.url.split('?')[0];
  const copy = ctx.get('x-amz-copy-source');
  const reason =
    unsafeRequestPath(rawPath) ??
    (copy ? unsafeRequestPath(`/${copy.replace(/^\//, '').split('?')[0]}`) : undefined) ??
    (['prefix', 'marker', 'start-after'] as const)
      .map((q) => ctx.query[q])
      .filter((v): v is string => typeof v === 'string' && v !== '')
      .map(unsafeKey)
      .find((r) => r !== undefined);
  if (!reason) return next();
  ctx.status = 400;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>${escapeXml(reason)}</Message></Error>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
