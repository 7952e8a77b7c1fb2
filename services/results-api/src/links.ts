/**
 * Read-only browser links to runs: a report URL must open in a browser, which sends no
 * Authorization header. A link carries the runs it opens and its expiry, signed with HMAC-SHA256;
 * it grants `results:read` on those runs' report, audit and compare pages, nothing else.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Principal } from '@camflow/contracts';

export interface LinkClaims {
  runs: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** Longest a link may live (7 days), and the default (24 h). */
export const LINK_MAX_SECONDS = 7 * 24 * 3600;
export const LINK_DEFAULT_SECONDS = 24 * 3600;

/** The signing key: CAMFLOW_LINK_SECRET, else derived from the configured API tokens. */
export function linkKey(secret: string | undefined, apiTokens: string | undefined): Buffer {
  return createHash('sha256')
    .update(secret ? `camflow-link-secret:${secret}` : `camflow-link-tokens:${apiTokens ?? ''}`)
    .digest();
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signLink(key: Buffer, claims: LinkClaims): string {
  const body = b64(JSON.stringify(claims));
  return `${body}.${b64(createHmac('sha256', key).update(body).digest())}`;
}

/** The claims of a valid, unexpired link, else undefined (a forged, altered or old one). */
export function verifyLink(
  key: Buffer,
  token: string,
  nowSeconds = Date.now() / 1000,
): LinkClaims | undefined {
  const [body, mac] = token.split('.');
  if (!body || !mac) return undefined;
  // Compared as canonical text: base64url's last character has spare bits, so decoding first
  // would accept several spellings of one MAC.
  const want = Buffer.from(b64(createHmac('sha256', key).update(body).digest()));
  const got = Buffer.from(mac);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  let claims: LinkClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkClaims;
  } catch {
    return undefined;
  }
  if (!Array.isArray(claims.runs) || typeof claims.exp !== 'number' || claims.exp <= nowSeconds)
    return undefined;
  return claims;
}

/** The principal a link stands for. */
export function linkPrincipal(claims: LinkClaims): Principal {
  const id = `link:${createHash('sha256').update(JSON.stringify(claims)).digest('hex').slice(0, 16)}`;
  return { id, scopes: ['results:read'], buckets: [], runs: claims.runs };
}
