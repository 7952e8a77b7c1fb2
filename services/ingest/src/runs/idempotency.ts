/**
 * `Idempotency-Key` on `POST /v1/runs`: the same key from the same token with the same body
 * answers the run it created before (a client repeating a command gets its run back instead of a
 * new run and a new audit); with another body it is refused (409). A run that failed no longer
 * holds its key. Keys are kept 30 days.
 */
import { createHash } from 'node:crypto';
import { redisKeys } from '@camflow/contracts';
import type { Redis } from 'ioredis';
import { HttpError } from '../http-error.js';
import { getRun } from '../run-store.js';

const TTL_SECONDS = 30 * 24 * 3600;
const KEY = /^[A-Za-z0-9._:-]{8,200}$/;
const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** When a run id was made (`run-<ms in base 36>-<random>`, run-ids.ts); 0 when unreadable. */
function runCreatedAt(runId: string): number {
  const t = Number.parseInt(runId.split('-')[1] ?? '', 36);
  return Number.isFinite(t) ? t : 0;
}

export interface Claim {
  /** The run the key already names (answer it), or undefined: create `runId`. */
  existing?: string;
  /** Forget the claim (the new run could not be created). */
  release(): Promise<void>;
}

/** The header's value, checked; undefined without one. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = Array.isArray(header) ? header[0] : header;
  if (!KEY.test(v))
    throw new HttpError(
      400,
      'validation',
      'Idempotency-Key: 8 to 200 letters, digits, ".", "_", ":" or "-"',
    );
  return v;
}

/** Claims `key` for `runId`, or finds the run it already names. */
export async function claimKey(
  redis: Redis,
  owner: string,
  key: string,
  body: unknown,
  runId: string,
): Promise<Claim> {
  const k = redisKeys.idempotency(owner, key);
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  const value = `${runId} ${hash}`;
  const release = async () => {
    // Only our own claim is released.
    await redis.eval(RELEASE, 1, k, value);
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await redis.set(k, value, 'EX', TTL_SECONDS, 'NX')) === 'OK') return { release };
    const held = await redis.get(k);
    if (held === null) continue;
    const [heldRun, heldHash] = held.split(' ');
    if (heldHash !== hash)
      throw new HttpError(
        409,
        'conflict',
        'Idempotency-Key was used with a different request: use a new key',
      );
    const run = await getRun(redis, heldRun);
    // A usable run, or one a concurrent request is creating (its record follows the claim within
    // moments): answer it. A run that failed, or a claim whose run never appeared, gives it up.
    const creating = !run && Date.now() - runCreatedAt(heldRun) < 60_000;
    if (creating || (run && !run.record.error))
      return { existing: heldRun, release: async () => {} };
    await redis.eval(RELEASE, 1, k, held);
  }
  throw new HttpError(409, 'conflict', 'Idempotency-Key is contended: try again');
}
