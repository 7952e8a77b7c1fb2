import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import { listModels } from '../models-list.js';
import type { Guards } from './guards.js';

/**
 * `GET /v1/models`: the pushed models a run may name (`runs:write`, the scope that runs them),
 * each with what its card says it takes and predicts.
 */
export function registerModelRoutes(app: FastifyInstance, deps: IngestDeps, guards: Guards): void {
  app.get('/v1/models', { preHandler: guards.write('runs:write') }, async () => ({
    items: await listModels(deps.store, deps.modelBucket),
  }));
}
