import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { hasScope } from '@camflow/contracts';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

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
      // Answered here: Bull Board's own error handler would report a thrown 403 as a 500.
      scope.addHook('onRequest', async (req, reply) => {
        if (!req.principal || hasScope(req.principal, 'admin')) return;
        return reply
          .code(403)
          .send({ error: 'forbidden', message: 'this token lacks the admin scope' });
      });
      await scope.register(adapter.registerPlugin());
    },
    { prefix: BASE },
  );
}
