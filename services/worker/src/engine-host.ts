/**
 * Where the engines run. onnxruntime-node's `session.run` executes on the calling thread, so a
 * batch run in the main thread would block the event loop (BullMQ lock renewals, S3 replies,
 * other jobs' work) for the whole forward and backward pass. `ThreadedRuntime` keeps them in a
 * worker thread: the main thread posts the batch tensor (transferred) and carries on.
 */
import type { EngineOptions } from '@camflow/engine';
import { Engine } from '@camflow/engine';
import type {
  BatchExplainer,
  ExplainBatchOptions,
  ExplainOutput,
  PredictOutput,
} from './micro-batcher.js';
import { ThreadClient, transferable } from './thread-rpc.js';

/** Loads model bytes into something that explains batches. */
export interface ModelRuntime {
  load(id: string, bytes: Uint8Array, options: EngineOptions): Promise<BatchExplainer>;
  /** Releases every engine (safe to call twice). */
  close(): Promise<void>;
  /** False once the runtime cannot serve any more (its thread died). */
  readonly healthy: boolean;
}

/** Requests to the engine thread. */
export type EngineRequest = { id: number } & (
  | { type: 'load'; model: string; bytes: ArrayBuffer; options: EngineOptions }
  | {
      type: 'explain';
      model: string;
      data: ArrayBuffer;
      dims: number[];
      options: ExplainBatchOptions;
    }
  | { type: 'predict'; model: string; data: ArrayBuffer; dims: number[] }
  | { type: 'close' }
);

/** Engines in one worker thread (one per worker process; ORT parallelises inside each op). */
export class ThreadedRuntime implements ModelRuntime {
  private readonly thread = new ThreadClient('engine-thread');

  get healthy(): boolean {
    return this.thread.healthy;
  }

  /** Loads a model into the thread (the bytes are copied there) and returns its explainer. */
  async load(model: string, bytes: Uint8Array, options: EngineOptions): Promise<BatchExplainer> {
    const copy = bytes.slice().buffer;
    // Functions cannot cross to a thread: the engine thread logs ORT fallbacks to stderr itself.
    const { logger: _logger, ...plain } = options;
    await this.thread.call({ type: 'load', model, bytes: copy, options: plain }, [copy]);
    return {
      explain: (batch, opts) => {
        const data = transferable(batch.data).buffer as ArrayBuffer;
        return this.thread.call<ExplainOutput>(
          { type: 'explain', model, data, dims: batch.dims, options: opts },
          [data],
        );
      },
      predict: (batch) => {
        const data = transferable(batch.data).buffer as ArrayBuffer;
        return this.thread.call<PredictOutput>({ type: 'predict', model, data, dims: batch.dims }, [
          data,
        ]);
      },
    };
  }

  /** Releases the engines and stops the thread (safe to call twice). */
  close(): Promise<void> {
    return this.thread.close({ type: 'close' });
  }
}

/** Engines in the calling thread (simpler; each batch blocks the event loop while it runs). */
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
