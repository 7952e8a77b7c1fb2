import type { ServerResponse } from 'node:http';
import {
  completionEventSchema,
  EVENT_FIELD,
  EVENTS_STREAM,
  type Principal,
  type RunRecord,
} from '@camflow/contracts';
import type { Logger } from '@camflow/telemetry';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { RouteContext } from '../context.js';
import { canSeeRun, jobRunIds, loadRun } from '../store/queries.js';
import { resultView } from '../store/result-view.js';

interface Client {
  res: ServerResponse;
  principal: Principal;
  runId?: string;
}

type Entry = [id: string, fields: string[]];

/**
 * Fans the live event stream out to SSE clients: one XREAD BLOCK reader (on its own
 * connection) runs while anyone listens, and each client gets the events of runs it may see.
 */
export class SseHub {
  private readonly clients = new Set<Client>();
  private reader?: { conn: Redis; done: Promise<void>; lastId: string };
  private heartbeat?: NodeJS.Timeout;
  private readonly records = new Map<string, { record?: RunRecord; at: number }>();
  private closed = false;
  private starting?: Promise<void>;

  constructor(
    private readonly ctx: RouteContext,
    private readonly opts: { heartbeatMs: number; blockMs: number },
  ) {}

  /** Starts streaming to a client; resolves once later events are sure to reach it. */
  async add(client: Client): Promise<void> {
    if (this.closed) throw new Error('closing');
    this.clients.add(client);
    if (!this.reader) {
      this.starting ??= this.startReader().finally(() => {
        this.starting = undefined;
      });
      await this.starting;
    }
    this.heartbeat ??= setInterval(() => this.broadcast(': ping\n\n'), this.opts.heartbeatMs);
  }

  /** Forgets a client (it disconnected); the reader stops with the last one. */
  remove(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stop();
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    this.closed = true;
    // The socket goes too: a kept-alive connection would hold the server's close for seconds.
    for (const c of this.clients) c.res.end(() => c.res.socket?.destroy());
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.reader?.conn.disconnect();
    this.reader = undefined;
  }

  private async startReader(): Promise<void> {
    const conn = this.ctx.redis.duplicate();
    conn.on('error', () => {});
    // Read from the stream's current end, fixed now: an event added after this call returns
    // reaches the client even if XREAD has not been sent yet.
    const info = (await this.ctx.redis.xinfo('STREAM', EVENTS_STREAM).catch(() => [])) as unknown[];
    const i = info.indexOf('last-generated-id');
    const reader = { conn, lastId: i >= 0 ? String(info[i + 1]) : '0-0', done: Promise.resolve() };
    this.reader = reader;
    reader.done = this.read(reader);
  }

  private async read(reader: { conn: Redis; lastId: string }): Promise<void> {
    while (this.reader === reader) {
      try {
        const res = (await reader.conn.xread(
          'COUNT',
          100,
          'BLOCK',
          this.opts.blockMs,
          'STREAMS',
          EVENTS_STREAM,
          reader.lastId,
        )) as [string, Entry[]][] | null;
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            reader.lastId = id;
            await this.deliver(id, fields);
          }
        }
      } catch (err) {
        if (this.reader !== reader) return;
        this.ctx.logger.warn({ err: (err as Error).message }, 'SSE stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async deliver(id: string, fields: string[]): Promise<void> {
    const at = fields.indexOf(EVENT_FIELD);
    let parsed: ReturnType<typeof completionEventSchema.safeParse> | undefined;
    try {
      parsed = at >= 0 ? completionEventSchema.safeParse(JSON.parse(fields[at + 1])) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) return;
    const event = parsed.data;
    const runIds = await jobRunIds(this.ctx.redis, event.jobId, event);
    const records = (await Promise.all(runIds.map((r) => this.record(r)))).filter(
      (r): r is RunRecord => r !== undefined,
    );
    const view = resultView(event);
    for (const c of this.clients) {
      const visible = records.filter((r) => canSeeRun(c.principal, r)).map((r) => r.runId);
      if (visible.length === 0 || (c.runId && !visible.includes(c.runId))) continue;
      const data = JSON.stringify({ type: event.type, runIds: visible, ...view });
      c.res.write(`id: ${id}\nevent: ${event.type}\ndata: ${data}\n\n`);
    }
  }

  /** Run records, cached briefly: a busy stream names the same few runs over and over. */
  private async record(runId: string): Promise<RunRecord | undefined> {
    const hit = this.records.get(runId);
    if (hit && Date.now() - hit.at < 10_000) return hit.record;
    const run = await loadRun(this.ctx.redis, runId);
    if (this.records.size > 10_000) this.records.clear();
    this.records.set(runId, { record: run?.record, at: Date.now() });
    return run?.record;
  }

  private broadcast(chunk: string): void {
    for (const c of this.clients) c.res.write(chunk);
  }
}

/** `GET /v1/events[?runId=]`: completion events as server-sent events. */
export function registerEventRoutes(app: FastifyInstance, hub: SseHub, log: Logger): void {
  app.get<{ Querystring: { runId?: string } }>(
    '/v1/events',
    {
      schema: {
        summary: 'Live completion events (SSE) of the runs this token may see',
        description:
          'Each message has `event: job.completed|job.failed`, `id: <stream id>` and `data:` a ' +
          'result (as in /v1/runs/:runId/results, without overlayUrl) plus `runIds`. Comment ' +
          'lines keep the connection alive.',
        tags: ['events'],
        querystring: {
          type: 'object',
          properties: { runId: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const client: Client = { res, principal: req.principal, runId: req.query.runId };
      // The response's close is the socket going away (the request's fires once it is read).
      res.on('close', () => hub.remove(client));
      try {
        await hub.add(client);
        // The client may have gone while the reader started.
        if (res.destroyed) hub.remove(client);
        else res.write(': connected\n\n');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'SSE client not started');
        res.end();
      }
    },
  );
}
