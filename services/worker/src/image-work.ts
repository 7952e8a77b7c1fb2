/**
 * The per-image CPU work around the engine: decode + preprocess before, render (CAM to source
 * resolution, overlay, 16-bit heatmap, statistics) after. For a 1024x1024 image that is a few
 * hundred milliseconds of JavaScript, so `ImagePool` runs it in worker threads: the main thread
 * stays free and a worker process uses every core, not one.
 */
import { availableParallelism } from 'node:os';
import { TransientError } from '@camflow/contracts';
import {
  type CellGrid,
  type DecodedImage,
  decodeImage,
  type Explanation,
  type Geometry,
  type ModelCard,
  preprocess,
  renderExplanation,
} from '@camflow/imaging';
import { ThreadClient, transferable } from './thread-rpc.js';

/** A decoded image and the model's input tensor made from it. */
export interface Prepared {
  image: DecodedImage;
  tensor: Float32Array;
  shape: [number, number, number];
  geometry: Geometry;
  decodeMs: number;
  preprocessMs: number;
}

/** A CAM at the hooked layer's resolution. */
export interface Cam {
  data: Float32Array;
  width: number;
  height: number;
  /** Present when the card draws the CAM on the layer's receptive fields. */
  grid?: CellGrid;
}

export type Priority = 'realtime' | 'bulk';

/** Decode/preprocess and render, wherever they run. */
export interface ImageWork {
  /** Decodes and preprocesses (throws ImageDecodeError, by name, for undecodable bytes). */
  prepare(bytes: Uint8Array, card: ModelCard, priority?: Priority): Promise<Prepared>;
  /** The overlay, heatmap and statistics at the image's own resolution. */
  render(
    image: DecodedImage,
    geometry: Geometry,
    cam: Cam,
    priority?: Priority,
  ): Promise<Explanation>;
  close(): Promise<void>;
  readonly healthy: boolean;
}

/** Requests to an image thread. */
export type ImageRequest = { id: number } & (
  | { type: 'prepare'; bytes: Uint8Array; card: ModelCard }
  | { type: 'render'; image: DecodedImage; geometry: Geometry; cam: Cam }
);

/** Decodes and preprocesses in the calling thread. */
export async function prepareImage(bytes: Uint8Array, card: ModelCard): Promise<Prepared> {
  const t0 = performance.now();
  const image = await decodeImage(bytes);
  const t1 = performance.now();
  const { tensor, shape, geometry } = await preprocess(image, card);
  return {
    image,
    tensor,
    shape,
    geometry,
    decodeMs: t1 - t0,
    preprocessMs: performance.now() - t1,
  };
}

/** Image work in the calling thread (tests, or a deliberately single-threaded worker). */
export class InlineImageWork implements ImageWork {
  readonly healthy = true;

  /** Decodes and preprocesses here. */
  prepare(bytes: Uint8Array, card: ModelCard): Promise<Prepared> {
    return prepareImage(bytes, card);
  }

  /** Renders here. */
  render(image: DecodedImage, geometry: Geometry, cam: Cam): Promise<Explanation> {
    return renderExplanation(image, geometry, cam);
  }

  async close(): Promise<void> {}
}

interface Task {
  request: object;
  transfer: ArrayBuffer[];
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Image work spread over worker threads. Each thread gets at most `perThread` tasks at a time
 * (two: one can compute while the other waits on libvips); the rest wait here, realtime tasks
 * first, so a realtime image never queues behind a bulk run's backlog inside a thread.
 */
export class ImagePool implements ImageWork {
  private readonly threads: ThreadClient[];
  private readonly waiting: Record<Priority, Task[]> = { realtime: [], bulk: [] };
  private readonly perThread = 2;

  /** `size` threads; default one per core but one (the engine thread needs a core too). */
  constructor(size = Math.max(1, availableParallelism() - 1)) {
    this.threads = Array.from(
      { length: Math.max(1, size) },
      () => new ThreadClient('image-thread'),
    );
  }

  get healthy(): boolean {
    return this.threads.every((t) => t.healthy);
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.waiting.realtime.length + this.waiting.bulk.length;
  }

  private submit<T>(request: object, transfer: ArrayBuffer[], priority: Priority): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting[priority].push({
        request,
        transfer,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.pump();
    });
  }

  private pump(): void {
    for (;;) {
      const thread = this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (thread.busy >= this.perThread) return;
      const task = this.waiting.realtime.shift() ?? this.waiting.bulk.shift();
      if (!task) return;
      thread
        .call(task.request, task.transfer)
        .then(task.resolve, task.reject)
        .finally(() => this.pump());
    }
  }

  /** Decodes and preprocesses in a thread; the bytes move there (the caller must not reuse them). */
  prepare(bytes: Uint8Array, card: ModelCard, priority: Priority = 'bulk'): Promise<Prepared> {
    const moved = transferable(bytes);
    return this.submit(
      { type: 'prepare', bytes: moved, card },
      [moved.buffer as ArrayBuffer],
      priority,
    );
  }

  /** Renders in a thread; the image's pixels move there. */
  render(
    image: DecodedImage,
    geometry: Geometry,
    cam: Cam,
    priority: Priority = 'bulk',
  ): Promise<Explanation> {
    const moved = { ...image, data: transferable(image.data) };
    return this.submit(
      { type: 'render', image: moved, geometry, cam },
      [moved.data.buffer as ArrayBuffer],
      priority,
    );
  }

  /** Stops every thread (safe to call twice); tasks still waiting fail as transient. */
  async close(): Promise<void> {
    for (const task of this.waiting.realtime.splice(0).concat(this.waiting.bulk.splice(0))) {
      task.reject(new TransientError('worker-thread', 'the image threads are closing'));
    }
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
