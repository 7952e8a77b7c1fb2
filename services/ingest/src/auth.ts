import { authenticate, hasScope, type Principal, type Scope } from '@camflow/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Where a token may come from. Bucket webhooks cannot always send a bearer header: MinIO sends
 * a fixed `Authorization` value (its `auth_token` setting, which may be `Bearer <token>`), other
 * senders only a URL, so the events route also takes `X-Camflow-Token` or `?token=`.
 */
export function presentedToken(
  req: FastifyRequest,
  allowAlternatives: boolean,
): string | undefined {
  const header = req.headers.authorization;
  if (header) return header;
  if (!allowAlternatives) return undefined;
  const alt = req.headers['x-camflow-token'];
  if (typeof alt === 'string' && alt) return `Bearer ${alt}`;
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && q) return `Bearer ${q}`;
  return undefined;
}

/**
 * A preHandler that authenticates the caller (constant-time, via `authenticate`) and checks
 * `scope` when given: 401 without a valid token, 403 without the scope.
 */
export function requireAuth(
  tokens: Map<string, Principal>,
  scope?: Scope,
  opts: { allowAlternatives?: boolean } = {},
) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = presentedToken(req, opts.allowAlternatives ?? false);
    if (!presented) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'missing token: send Authorization: Bearer <token>');
    }
    const principal = authenticate(tokens, presented);
    if (!principal) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new HttpError(401, 'unauthorized', 'invalid token');
    }
    if (scope && !hasScope(principal, scope)) {
      throw new HttpError(403, 'forbidden', `this token lacks the ${scope} scope`);
    }
    req.principal = principal;
  };
}
