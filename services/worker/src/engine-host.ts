/**
 * Runs the engines in a worker thread. onnxruntime-node's `session.run` executes on the calling
 * thread, so a batch in the main thread would block the event loop (BullMQ lock renewals, S3
 * replies, the next jobs' decoding) for the whole forward and backward pass. Here the main thread
 * only posts the batch tensor (transferred, not copied) and keeps working while ORT computes.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { TransientError } from '@camflow/contracts';
import { Engine, type EngineOptions } from '@camflow/engine';
import type { BatchExplainer, ExplainBatchOptions, ExplainOutput } from './micro-batcher.js';

/** Loads model bytes into something that explains batches. */
export interface ModelRuntime {
  load(id: string, bytes: Uint8Array, options: EngineOptions): Promise<BatchExplainer>;
  /** Releases every engine (safe to call twice). */
  close(): Promise<void>;
  /** False once the runtime cannot serve any more (its thread died). */
  readonly healthy: boolean;
}

/** Messages to the engine thread. */
export type HostRequest =
  | { type: 'load'; id: number; model: string; bytes: ArrayBuffer; options: EngineOptions }
  | {
      type: 'explain';
      id: number;
      model: string;
      data: ArrayBuffer;
      dims: number[];
      options: ExplainBatchOptions;
    }
  | { type: 'close'; id: number };

/** An error as it crosses the thread boundary: its class name decides permanent vs transient. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

/** Replies from the engine thread. */
export type HostReply =
  | { id: number; ok: true; value?: ExplainOutput }
  | { id: number; ok: false; error: WireError };

/** Rebuilds an error from the thread with its name (and code) intact. */
export function fromWire(w: WireError): Error {
  const err = new Error(w.message) as Error & { code?: string };
  err.name = w.name;
  if (w.code !== undefined) err.code = w.code;
  return err;
}

/** Engines in one worker thread; one instance per worker process. */
export class ThreadedRuntime implements ModelRuntime {
  private readonly thread: Worker;
  private readonly calls = new Map<
    number,
    { resolve(v: HostReply): void; reject(e: Error): void }
  >();
  private nextId = 1;
  private dead?: Error;
  private closing?: Promise<void>;

  constructor() {
    // The thread runs compiled JavaScript: resolve it through this package's exports, which
    // also works when the caller runs from sources (tests), as long as `tsc -b` has run.
    const entry = createRequire(import.meta.url).resolve('@camflow/worker/engine-thread');
    this.thread = new Worker(entry);
    this.thread.on('message', (reply: HostReply) => {
      const call = this.calls.get(reply.id);
      this.calls.delete(reply.id);
      call?.resolve(reply);
    });
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', (code) =>
      this.fail(new Error(`engine thread exited with code ${code}`)),
    );
  }

  get healthy(): boolean {
    return this.dead === undefined;
  }

  private fail(cause: Error): void {
    if (this.dead) return;
    this.dead = cause;
    const err = new TransientError('engine-thread', `the engine thread stopped: ${cause.message}`);
    for (const call of this.calls.values()) call.reject(err);
    this.calls.clear();
  }

  private call(req: DistributiveOmit<HostRequest, 'id'>, transfer: ArrayBuffer[] = []) {
    if (this.dead) {
      return Promise.reject(
        new TransientError('engine-thread', `the engine thread stopped: ${this.dead.message}`),
      );
    }
    const id = this.nextId++;
    return new Promise<HostReply>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.thread.postMessage({ ...req, id }, transfer);
    }).then((reply) => {
      if (!reply.ok) throw fromWire(reply.error);
      return reply.value;
    });
  }

  /** Loads a model into the thread (the bytes are copied there) and returns its explainer. */
  async load(model: string, bytes: Uint8Array, options: EngineOptions): Promise<BatchExplainer> {
    const copy = bytes.slice().buffer;
    await this.call({ type: 'load', model, bytes: copy, options: withoutLogger(options) }, [copy]);
    return {
      explain: async (batch, opts) => {
        // The batcher builds a fresh tensor per batch: hand its memory over instead of copying.
        const whole =
          batch.data.byteOffset === 0 && batch.data.byteLength === batch.data.buffer.byteLength;
        const data = (whole ? batch.data : batch.data.slice()).buffer as ArrayBuffer;
        const out = await this.call(
          { type: 'explain', model, data, dims: batch.dims, options: opts },
          [data],
        );
        return out as ExplainOutput;
      },
    };
  }

  /** Releases the engines and stops the thread (safe to call twice). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.dead) await this.call({ type: 'close' }).catch(() => undefined);
      this.dead ??= new Error('closed');
      await this.thread.terminate();
    })();
    return this.closing;
  }
}

/** Engines in the calling thread (simple, but each batch blocks the event loop while it runs). */
export class InProcessRuntime implements ModelRuntime {
  private readonly engines: Engine[] = [];
  readonly healthy = true;

  /** Loads the model in this thread. */
  async load(_model: string, bytes: Uint8Array, options: EngineOptions): Promise<BatchExplainer> {
    const engine = Engine.load(bytes, options);
    this.engines.push(engine);
    return engine;
  }

  /** Releases every engine (safe to call twice). */
  async close(): Promise<void> {
    await Promise.all(this.engines.splice(0).map((e) => e.close()));
  }
}

// Functions cannot be posted to a thread; the engine thread logs ORT fallbacks to stderr itself.
function withoutLogger(options: EngineOptions): EngineOptions {
  const { logger: _logger, ...rest } = options;
  return rest;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
