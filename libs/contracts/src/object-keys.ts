import { z } from 'zod';

/**
 * The one policy for every S3 key and bucket name that enters camflow (run keys, prefixes,
 * manifest paths and entries, single jobs, bucket events, DICOM storage keys). It does not rely
 * on the S3 server: AWS treats `..` literally, but s3rver, MinIO's file-system mode and some
 * gateways resolve it on their file system, which would let a token limited to one bucket read
 * another. A key that breaks a rule is refused, naming the rule.
 */
export const KEY_RULES = {
  empty: 'keys may not be empty',
  'too-long': 'keys are at most 1024 bytes of UTF-8',
  'leading-slash': 'keys may not start with "/"',
  'empty-segment': 'keys may not contain empty segments ("//")',
  'dot-segment': 'keys may not contain "." or ".." segments',
  'control-character': 'keys may not contain control characters (NUL, newlines, C0/C1, DEL)',
  'invalid-utf8':
    'keys must be valid UTF-8 (lone surrogates or U+FFFD, what broken UTF-8 decodes to)',
} as const;
export type KeyRule = keyof typeof KEY_RULES;

export const MAX_KEY_BYTES = 1024;

/** A key that breaks the policy: which rule, and a message that names the key and the rule. */
export interface KeyViolation {
  rule: KeyRule;
  message: string;
}

// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// In a `u` regex a valid surrogate pair is one code point: only lone halves are category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks an object key (`prefix: true`: a listing prefix, which may be empty and may end with
 * `/`). Returns the first rule it breaks, or undefined when it is safe.
 */
export function keyViolation(
  key: string,
  opts: { prefix?: boolean } = {},
): KeyViolation | undefined {
  const rule = brokenRule(key, opts.prefix === true);
  if (!rule) return undefined;
  const what = opts.prefix ? 'prefix' : 'key';
  return { rule, message: `${what} ${quoteKey(key)}: ${KEY_RULES[rule]}` };
}

function brokenRule(key: string, prefix: boolean): KeyRule | undefined {
  if (key === '') return prefix ? undefined : 'empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return 'too-long';
  if (LONE_SURROGATE.test(key) || key.includes('\uFFFD')) return 'invalid-utf8';
  if (CONTROL.test(key)) return 'control-character';
  if (key.startsWith('/')) return 'leading-slash';
  const segments = key.split('/');
  // A prefix may end with "/" (its last segment is then empty); an object key may not.
  if (prefix && segments.at(-1) === '') segments.pop();
  for (const s of segments) {
    if (s === '.' || s === '..') return 'dot-segment';
    if (s === '') return 'empty-segment';
  }
  return undefined;
}

/** The key as JSON, shortened to keep error lines readable. */
function quoteKey(key: string): string {
  const shown = key.length > 120 ? `${key.slice(0, 100)}...(${key.length} chars)` : key;
  return JSON.stringify(shown);
}

/** Thrown by `checkObjectKey`; `reason` is `unsafe-key` for PermanentError-style handling. */
export class UnsafeKeyError extends Error {
  override name = 'UnsafeKeyError';
  readonly permanent = true;
  readonly reason = 'unsafe-key';
  constructor(readonly violation: KeyViolation) {
    super(violation.message);
  }
}

/** Throws UnsafeKeyError when the key breaks the policy. */
export function checkObjectKey(key: string, opts: { prefix?: boolean } = {}): void {
  const v = keyViolation(key, opts);
  if (v) throw new UnsafeKeyError(v);
}

/**
 * Bucket names: S3's rules, with the legacy upper case and underscores of us-east-1 allowed;
 * never a name a file-system-backed server could resolve outside its folder.
 */
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;

export function bucketViolation(bucket: string): string | undefined {
  if (BUCKET.test(bucket) && !bucket.includes('..')) return undefined;
  return `bucket ${quoteKey(bucket)}: bucket names are 3-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit, without ".."`;
}

/** zod schemas applying the policy (request bodies, job payloads). */
export const objectKeySchema = z.string().superRefine((key, ctx) => {
  const v = keyViolation(key);
  if (v)
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: v.message, params: { rule: v.rule } });
});
export const keyPrefixSchema = z.string().superRefine((key, ctx) => {
  const v = keyViolation(key, { prefix: true });
  if (v)
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: v.message, params: { rule: v.rule } });
});
export const bucketNameSchema = z.string().superRefine((bucket, ctx) => {
  const m = bucketViolation(bucket);
  if (m) ctx.addIssue({ code: z.ZodIssueCode.custom, message: m });
});
