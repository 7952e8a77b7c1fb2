import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth.js';

const BASE = '/admin/queues';

/**
 * Bull Board at /admin/queues. Its routes come from its own plugin, so the admin check is an
 * onRequest hook on that prefix (after the global hook has authenticated the caller).
 */
export async function registerBullBoard(app: FastifyInstance, queues: Queue[]): Promise<void> {
  const adapter = new FastifyAdapter();
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  adapter.setBasePath(BASE);
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (req) => requireScope(req.principal, 'admin'));
      await scope.register(adapter.registerPlugin());
    },
    { prefix: BASE },
  );
}
