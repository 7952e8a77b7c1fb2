import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { camAlignSchema, camMethodSchema } from './jobs.js';
import { modelRefSchema } from './model-ref.js';
import { bucketNameSchema, keyPrefixSchema } from './object-keys.js';

export const SCOPES = [
  'runs:write',
  'results:read',
  'events:write',
  'admin',
  /** STOW-RS uploads (`POST /dicomweb/studies`). */
  'dicom:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** `CAMFLOW_API_TOKENS`: `{"<token>": {"scopes": [...], "buckets": ["<bucket>" | "*"]}}`. */
export const apiTokensSchema = z.record(
  z
    .string()
    .min(16, 'tokens must be at least 16 characters')
    .regex(
      /^[A-Za-z0-9\-._~+/]+=*$/,
      'tokens are letters, digits and - . _ ~ + / (RFC 6750 b64token)',
    ),
  z
    .object({
      scopes: z.array(z.enum(SCOPES)).min(1),
      buckets: z.array(z.string().min(1)).default(['*']),
    })
    .strict(),
);

export interface Principal {
  /** sha256 of the token: what runs record as their owner; never the token itself. */
  id: string;
  scopes: Scope[];
  buckets: string[];
  /** A signed browser link: read-only, and only these runs. */
  runs?: string[];
}

export function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 24);
}

/** Parses CAMFLOW_API_TOKENS into principals keyed by token digest (constant-time lookup). */
export function parseApiTokens(json: string | undefined): Map<string, Principal> {
  const out = new Map<string, Principal>();
  if (!json) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`CAMFLOW_API_TOKENS is not JSON: ${(err as Error).message}`);
  }
  const parsed = apiTokensSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`CAMFLOW_API_TOKENS: ${parsed.error.issues[0].message}`);
  for (const [token, p] of Object.entries(parsed.data)) {
    out.set(digest(token), { id: tokenId(token), scopes: p.scopes, buckets: p.buckets });
  }
  return out;
}

function digest(token: string): string {
  return createHash('sha256').update(`camflow:${token}`).digest('hex');
}

/**
 * Finds the principal for an `Authorization: Bearer <token>` header. Tokens are compared by
 * digest with timingSafeEqual, so response time says nothing about how much of a guess matched.
 */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function authenticate(
  tokens: Map<string, Principal>,
  header: string | undefined,
): Principal | undefined {
  // RFC 6750's grammar exactly: the scheme, one space, a b64token (no other whitespace).
  const m = BEARER.exec(header ?? '');
  if (!m) return undefined;
  const d = Buffer.from(digest(m[1]), 'hex');
  let found: Principal | undefined;
  for (const [k, p] of tokens) {
    if (timingSafeEqual(Buffer.from(k, 'hex'), d)) found = p;
  }
  return found;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes(scope) || p.scopes.includes('admin');
}

export function canUseBucket(p: Principal, bucket: string): boolean {
  return p.scopes.includes('admin') || p.buckets.includes('*') || p.buckets.includes(bucket);
}

/** `CAMFLOW_EVENT_RULES`: which model explains the objects that bucket notifications announce. */
export const eventRulesSchema = z.array(
  z
    .object({
      bucket: bucketNameSchema,
      prefix: keyPrefixSchema.optional(),
      suffix: z.string().optional(),
      model: modelRefSchema,
      layer: z.string().min(1).optional(),
      method: camMethodSchema.optional(),
      align: camAlignSchema.optional(),
    })
    .strict(),
);
export type EventRule = z.infer<typeof eventRulesSchema>[number];

export function parseEventRules(json: string | undefined): EventRule[] {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`CAMFLOW_EVENT_RULES is not JSON: ${(err as Error).message}`);
  }
  const parsed = eventRulesSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`CAMFLOW_EVENT_RULES: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The first rule matching an object, if any. */
export function matchEventRule(
  rules: EventRule[],
  bucket: string,
  key: string,
): EventRule | undefined {
  return rules.find(
    (r) => r.bucket === bucket && key.startsWith(r.prefix ?? '') && key.endsWith(r.suffix ?? ''),
  );
}
