import {
  bucketViolation,
  canUseBucket,
  type EventRule,
  type ExplainSettings,
  explainJobId,
  keyViolation,
  matchEventRule,
  type RunRecord,
} from '@camflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../deps.js';
import { type ExplainItem, enqueueExplainJobs, pinnedSource } from '../enqueue.js';
import { HttpError } from '../http-error.js';
import { eventsRunId } from '../run-ids.js';
import { addListed, ensureRun } from '../run-store.js';
import { isObjectCreated, parseNotification } from '../s3-events.js';
import type { Guards } from './guards.js';

interface Group {
  rule: EventRule;
  runId: string;
  items: ExplainItem[];
}

/**
 * `POST /v1/events/s3`: AWS S3 / MinIO notifications -> realtime explain jobs in the day's
 * events run of the bucket (created on first use). Records with no matching rule, or that do
 * not announce a new object, are acknowledged and counted; redeliveries get the same job ids,
 * so they queue nothing new.
 */
export function registerEventRoutes(app: FastifyInstance, deps: IngestDeps, guards: Guards): void {
  app.post(
    '/v1/events/s3',
    { preHandler: guards.write('events:write', true) },
    async (req, reply) => {
      const principal = req.principal!;
      const records = parseNotification(req.body);
      deps.metrics.eventsReceived.inc(records.length);
      const denied = records.find((r) => !canUseBucket(principal, r.bucket));
      if (denied) {
        throw new HttpError(403, 'forbidden', `this token may not use bucket ${denied.bucket}`);
      }
      const groups = new Map<string, Group>();
      const ignored: Record<string, number> = {};
      const ignore = (reason: string) => {
        ignored[reason] = (ignored[reason] ?? 0) + 1;
        deps.metrics.eventsIgnored.inc({ reason });
      };
      for (const r of records) {
        if (!isObjectCreated(r.eventName)) {
          ignore('not-object-created');
          continue;
        }
        if (r.key.endsWith('/')) {
          ignore('folder');
          continue;
        }
        // The key policy after URL-decoding: one hostile record is skipped, not the batch.
        const unsafe = bucketViolation(r.bucket) ?? keyViolation(r.key)?.message;
        if (unsafe) {
          req.log.warn(
            { bucket: r.bucket, reason: unsafe },
            'notification record skipped: unsafe key',
          );
          ignore('unsafe-key');
          continue;
        }
        const rule = matchEventRule(deps.eventRules, r.bucket, r.key);
        if (!rule) {
          ignore('no-rule');
          continue;
        }
        const runId = eventsRunId(deps.eventRules, rule, r.day);
        let g = groups.get(runId);
        if (!g) {
          g = { rule, runId, items: [] };
          groups.set(runId, g);
        }
        g.items.push({ source: pinnedSource(r.bucket, r.key, r.etag, r.versionId) });
      }

      const jobs: { jobId: string; runId: string; bucket: string; key: string }[] = [];
      for (const g of groups.values()) {
        const settings = settingsOf(g.rule);
        await ensureEventsRun(deps, g, settings, principal.id);
        const { jobIds } = await enqueueExplainJobs(
          deps.redis,
          deps.queues.realtime,
          g.runId,
          settings,
          g.items,
          deps.metrics,
        );
        await addListed(deps.redis, g.runId, jobIds.length);
        const seen = new Set<string>();
        for (const item of g.items) {
          const jobId = explainJobId(item.source, settings);
          if (seen.has(jobId)) continue;
          seen.add(jobId);
          jobs.push({ jobId, runId: g.runId, bucket: item.source.bucket, key: item.source.key });
        }
      }
      const ignoredCount = Object.values(ignored).reduce((a, b) => a + b, 0);
      if (ignoredCount > 0) req.log.info({ ignored }, 'notification records ignored');
      return reply.code(202).send({ received: records.length, jobs, ignored: ignoredCount });
    },
  );
}

function settingsOf(rule: EventRule): ExplainSettings {
  const s: ExplainSettings = {
    model: rule.model,
    method: rule.method ?? 'gradcam',
    target: 'predicted',
  };
  if (rule.layer) s.layer = rule.layer;
  if (rule.align) s.align = rule.align;
  return s;
}

async function ensureEventsRun(
  deps: IngestDeps,
  g: Group,
  settings: ExplainSettings,
  owner: string,
): Promise<void> {
  const record: RunRecord = {
    runId: g.runId,
    kind: 'events',
    model: settings.model,
    layer: settings.layer,
    method: settings.method,
    target: settings.target,
    ...(settings.align && { align: settings.align }),
    priority: 'realtime',
    source: { bucket: g.rule.bucket, prefix: g.rule.prefix },
    owner,
    createdAt: Date.now(),
    // Nothing is left to list: each notification is queued as it arrives.
    listingDone: true,
  };
  if (await ensureRun(deps.redis, record)) deps.metrics.runsCreated.inc({ kind: 'events' });
}
