/**
 * Request/reply over a worker thread: the worker's CPU-heavy parts (ONNX Runtime, decoding,
 * resizing, rendering) run in threads so the event loop stays free for BullMQ lock renewals and
 * S3 traffic. Buffers are transferred, not copied. Errors cross as name + message (+ code): the
 * name is what decides permanent vs transient (job-errors.ts).
 */
import { createRequire } from 'node:module';
import * as worker_threads from 'node:worker_threads';
import { parentPort, Worker } from 'node:worker_threads';
import { TransientError } from '@camflow/contracts';

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** Rebuilds an error from a thread with its name (and code) intact. */
export function fromWire(w: WireError): Error {
  const err = new Error(w.message) as Error & { code?: string };
  err.name = w.name;
  if (w.code !== undefined) err.code = w.code;
  return err;
}

/** An error as a plain object that crosses a thread boundary intact. */
export function toWire(err: unknown): WireError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: String(e?.message ?? err),
    code: typeof e?.code === 'string' ? e.code : undefined,
  };
}

/**
 * An array that owns its whole buffer, safe to put in a transfer list: views are copied, and so
 * are Node Buffers (they may sit in Node's shared pool or in memory a native addon owns), and
 * buffers Node marks untransferable (from Node 22 on, memory a native addon such as sharp
 * allocated: transferring one fails the whole message with a DataCloneError).
 */
export function transferable<T extends Float32Array | Uint8Array>(a: T): T {
  if (
    !Buffer.isBuffer(a) &&
    a.byteOffset === 0 &&
    a.byteLength === a.buffer.byteLength &&
    !untransferable(a.buffer)
  )
    return a;
  return (a instanceof Float32Array ? new Float32Array(a) : new Uint8Array(a)) as T;
}

// worker_threads.isMarkedAsUntransferable exists from Node 21; Node 20 transfers such buffers.
const isMarked = (worker_threads as { isMarkedAsUntransferable?: (o: object) => boolean })
  .isMarkedAsUntransferable;
const untransferable = (b: ArrayBufferLike): boolean => isMarked?.(b) ?? false;

/** One worker thread running `@camflow/worker/<entry>` (compiled JavaScript). */
export class ThreadClient {
  private readonly thread: Worker;
  private readonly calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private dead?: Error;
  private closing?: Promise<void>;

  constructor(entry: 'engine-thread' | 'image-thread') {
    // Resolved through this package's exports, which also works when the caller runs from
    // sources (tests), as long as `tsc -b` has built dist/.
    this.thread = new Worker(createRequire(import.meta.url).resolve(`@camflow/worker/${entry}`));
    this.thread.on('message', (reply: Reply) => {
      const call = this.calls.get(reply.id);
      this.calls.delete(reply.id);
      if (!call) return;
      if (reply.ok) call.resolve(reply.value);
      else call.reject(fromWire(reply.error));
    });
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', (code) => this.fail(new Error(`thread exited with code ${code}`)));
  }

  /** False once the thread has died (or was closed). */
  get healthy(): boolean {
    return this.dead === undefined;
  }

  /** Requests in flight. */
  get busy(): number {
    return this.calls.size;
  }

  private fail(cause: Error): void {
    if (this.dead) return;
    this.dead = cause;
    const err = new TransientError('worker-thread', `a worker thread stopped: ${cause.message}`);
    for (const call of this.calls.values()) call.reject(err);
    this.calls.clear();
  }

  /** Sends a request; resolves with the thread's value or rejects with its error. */
  call<T>(request: object, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) {
      return Promise.reject(
        new TransientError('worker-thread', `a worker thread stopped: ${this.dead.message}`),
      );
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.thread.postMessage({ ...request, id }, transfer);
    });
  }

  /** Stops the thread, after `goodbye` (a last request) when given. Safe to call twice. */
  close(goodbye?: object): Promise<void> {
    this.closing ??= (async () => {
      if (goodbye && !this.dead) await this.call(goodbye).catch(() => undefined);
      this.dead ??= new Error('closed');
      await this.thread.terminate();
    })();
    return this.closing;
  }
}

/** Thread side: answers each request with `handle`'s value and transfer list, or its error. */
export function serveThread<R extends { id: number }>(
  handle: (request: R) => Promise<{ value: unknown; transfer?: ArrayBuffer[] }>,
): void {
  const port = parentPort;
  if (!port) throw new Error('this module runs inside a worker thread');
  port.on('message', (request: R) => {
    handle(request).then(
      ({ value, transfer }) =>
        port.postMessage({ id: request.id, ok: true, value }, transfer ?? []),
      (err) => port.postMessage({ id: request.id, ok: false, error: toWire(err) }),
    );
  });
}
