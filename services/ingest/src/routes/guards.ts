import type { Principal, Scope } from '@camflow/contracts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requireAuth } from '../auth.js';
import { HttpError } from '../http-error.js';
import { FixedWindowLimiter } from '../rate-limit.js';

/** Builds the preHandlers of the routes: auth, then the per-token rate limit on writes. */
export function createGuards(
  tokens: Map<string, Principal>,
  rateLimit: { max: number; windowMs: number },
) {
  const limiter = new FixedWindowLimiter(rateLimit.max, rateLimit.windowMs);
  const limit = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const r = limiter.take(req.principal!.id);
    if (!r.ok) {
      reply.header('retry-after', String(r.retryAfterS));
      throw new HttpError(429, 'rate_limited', `too many requests; retry in ${r.retryAfterS} s`);
    }
  };
  return {
    /** Any valid token (readiness, metrics). */
    read: [requireAuth(tokens)] as preHandlerAsyncHookHandler[],
    /** A POST route needing `scope`; `alternatives` also takes `X-Camflow-Token` / `?token=`. */
    write: (scope: Scope, alternatives = false): preHandlerAsyncHookHandler[] => [
      requireAuth(tokens, scope, { allowAlternatives: alternatives }),
      limit,
    ],
  };
}

/** The route guards of one app. */
export type Guards = ReturnType<typeof createGuards>;
