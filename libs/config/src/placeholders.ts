/**
 * Credentials that are published (in this repository's examples, in vendor defaults) are as good
 * as none: a service that starts with one is open to anyone who read the docs. They are refused
 * at start-up, naming the variable, never the value.
 */

/** Markers that example files put in values meant to be replaced. */
const MARKERS = ['change-me', 'changeme', 'not-for-production', 'replace-me', 'placeholder'];
/** Vendor defaults that are publicly known (MinIO's root user and password). */
const KNOWN = new Set(['minioadmin']);

/** True when `value` is a known placeholder or default credential. */
export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  return KNOWN.has(v) || MARKERS.some((m) => v.includes(m));
}

interface Credentials {
  REDIS_URL: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  CAMFLOW_API_TOKENS?: string;
  CAMFLOW_TOKEN?: string;
}

const FIX = 'generate a real one (e.g. `openssl rand -hex 32`)';

/** One line naming the variable that holds a placeholder credential, or undefined. */
export function placeholderProblem(c: Credentials): string | undefined {
  for (const name of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'CAMFLOW_TOKEN'] as const) {
    const v = c[name];
    if (v && isPlaceholder(v)) return `environment variable ${name}: a placeholder value; ${FIX}`;
  }
  const password = redisPassword(c.REDIS_URL);
  if (password && isPlaceholder(password)) {
    return `environment variable REDIS_URL: its password is a placeholder; ${FIX}`;
  }
  for (const token of tokenKeys(c.CAMFLOW_API_TOKENS)) {
    if (isPlaceholder(token)) {
      return `environment variable CAMFLOW_API_TOKENS: a token is a placeholder; ${FIX}`;
    }
  }
  return undefined;
}

function redisPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined; // not a URL: ioredis reports it when it connects
  }
}

/** The tokens (object keys) of CAMFLOW_API_TOKENS; malformed JSON is reported where it is parsed. */
function tokenKeys(json: string | undefined): string[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? Object.keys(parsed)
      : [];
  } catch {
    return [];
  }
}
