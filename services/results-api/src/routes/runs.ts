import { redisKeys } from '@camflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { notFound } from '../http-errors.js';
import { auditFindings } from '../store/audit.js';
import { decodeCursor, encodeCursor } from '../store/cursor.js';
import { overlayUrls } from '../store/presign.js';
import { canSeeRun, loadRun, runStatus, scanResults, visibleRun } from '../store/queries.js';
import { type ResultFilter, resultFilter, resultView } from '../store/result-view.js';
import { scanZset, type ZPosition } from '../store/zset-scan.js';

const runIdParams = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

/** Results a results page may look at before it answers with fewer items and a cursor. */
const MAX_SCAN = 5000;

/** `GET /v1/runs`, `GET /v1/runs/:runId`, `GET /v1/runs/:runId/results`. */
export function registerRunRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/v1/runs',
    {
      schema: {
        summary: 'Runs this token may see, newest first',
        tags: ['runs'],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string' },
          },
        },
      },
    },
    async (req) => {
      const { limit } = req.query;
      const items = [];
      let next: ZPosition | undefined;
      let scanned = 0;
      for await (const pos of scanZset(ctx.redis, redisKeys.runs, {
        after: decodeCursor(req.query.cursor),
        reverse: true,
      })) {
        scanned++;
        const run = await loadRun(ctx.redis, pos.member);
        if (run && canSeeRun(req.principal, run.record))
          // A list leaves out per-label figures: each would read its run's results.
          items.push(await runStatus(ctx.redis, run, Date.now(), { labelFigures: false }));
        if (items.length >= limit || scanned >= MAX_SCAN) {
          next = pos;
          break;
        }
      }
      return { items, nextCursor: next ? encodeCursor(next) : null };
    },
  );

  app.get<{ Params: { runId: string } }>(
    '/v1/runs/:runId',
    {
      schema: {
        summary: 'Run status: counts by state, throughput (images/s) and ETA',
        tags: ['runs'],
        params: runIdParams,
        response: { 404: errorSchema },
      },
    },
    async (req) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound('run');
      return runStatus(ctx.redis, run);
    },
  );

  app.get<{
    Params: { runId: string };
    Querystring: ResultFilter & { limit: number; cursor?: string };
  }>(
    '/v1/runs/:runId/results',
    {
      schema: {
        summary: 'Results of a run in completion order, cursor-paginated and filterable',
        description:
          'Pages end on the last result looked at; a page may hold fewer than `limit` items (even ' +
          'none) when filters skip many results: follow `nextCursor` until it is null.',
        tags: ['runs'],
        params: runIdParams,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: 'string' },
            predicted: { type: 'integer', description: 'predicted class index' },
            flagged: {
              type: 'boolean',
              description:
                "only images that do (or do not) carry a region of the run's audit findings",
            },
            minScore: { type: 'number', description: "the target class's score, inclusive" },
            maxScore: { type: 'number' },
            status: { type: 'string', enum: ['completed', 'failed'] },
            study: {
              type: 'string',
              maxLength: 64,
              pattern: '^[0-9]+(\\.[0-9]+)+$',
              description: 'StudyInstanceUID: only results of that DICOM study',
            },
            split: {
              type: 'string',
              minLength: 1,
              maxLength: 255,
              description: 'only results of that split (runs with labels from folders)',
            },
          },
        },
        response: { 404: errorSchema },
      },
    },
    async (req) => {
      const run = await visibleRun(ctx.redis, req.principal, req.params.runId);
      if (!run) throw notFound('run');
      const { limit, cursor, ...filter } = req.query;
      const findings = await auditFindings(ctx.redis, run.record.runId);
      const page = await scanResults(ctx.redis, run.record.runId, {
        after: decodeCursor(cursor),
        limit,
        maxScan: Math.max(MAX_SCAN, limit),
        keep: resultFilter(filter, findings),
      });
      const events = page.rows.map((r) => r.event);
      const urls = await overlayUrls(ctx.store, events, ctx.overlayUrlExpirySeconds);
      return {
        items: events.map((e, i) => resultView(e, urls[i], findings)),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
    },
  );
}
