import { authenticate, hasScope, type Principal, type Scope } from '@camflow/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';
import { linkPrincipal, verifyLink } from './links.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the auth hook on every route but the public ones. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Scope a route needs (default results:read); `public` routes need no token. */
    scope?: Scope;
    public?: boolean;
    /** Also opens with a signed browser link (`?link=`) to the runs it names (links.ts). */
    linkable?: boolean;
  }
}

/**
 * Bearer-token auth on every route: 401 without a valid token, 403 without the route's scope
 * (admin implies every scope). Unknown URLs are authenticated too, so probing says nothing.
 */
export function registerAuth(
  app: FastifyInstance,
  tokens: Map<string, Principal>,
  linkKey?: Buffer,
): void {
  app.decorateRequest('principal', undefined as unknown as Principal);
  // Answered here, not thrown: routes of a plugin with its own error handler (Bull Board) would
  // turn a thrown 401 into its "internal server error".
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      checkRequest(req, reply, tokens, linkKey);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
  });
}

function checkRequest(
  req: FastifyRequest,
  reply: FastifyReply,
  tokens: Map<string, Principal>,
  linkKey: Buffer | undefined,
): void {
  {
    const config = req.routeOptions.config ?? {};
    if (config.public) return;
    const link = (req.query as { link?: unknown } | undefined)?.link;
    if (config.linkable && linkKey && !req.headers.authorization && typeof link === 'string') {
      const claims = verifyLink(linkKey, link);
      if (!claims) throw new HttpError(401, 'unauthorized', 'this link is invalid or has expired');
      req.principal = linkPrincipal(claims);
      return;
    }
    const p = authenticate(tokens, req.headers.authorization);
    if (!p) {
      reply.header('www-authenticate', 'Bearer realm="camflow"');
      throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
    }
    req.principal = p;
    requireScope(p, config.scope ?? 'results:read');
  }
}

/** Throws 403 unless `p` has `scope`. */
export function requireScope(p: Principal, scope: Scope): void {
  if (!hasScope(p, scope))
    throw new HttpError(403, 'forbidden', `this token lacks the ${scope} scope`);
}
