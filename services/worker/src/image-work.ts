/**
 * The per-image CPU work around the engine: decode + preprocess before, render (CAM to source
 * resolution, overlay, heatmap, statistics) after. It is milliseconds to hundreds of
 * milliseconds of CPU per image, so `ImagePool` runs it in worker threads: the main thread stays
 * free for BullMQ and S3, and a worker process uses every core, not one.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { TransientError } from '@camflow/contracts';
import {
  type CellGrid,
  type DecodedImage,
  decodeImage,
  type Explanation,
  type ExplanationOptions,
  type Geometry,
  type ModelCard,
  preprocess,
  renderExplanation,
} from '@camflow/imaging';
import { Piscina, type PiscinaTask, type TaskQueue } from 'piscina';
import { fromWire, transferable, type WireError } from './thread-rpc.js';

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

/** What to decode of a source: a DICOM instance's frame (jobs of per-frame rules; default 0). */
export interface PrepareOptions {
  dicomFrame?: number;
}

/** How the outputs are drawn and encoded (plain data: it crosses to the image threads). */
export type RenderOptions = Omit<ExplanationOptions, 'decode' | 'mask'>;

/** Decode/preprocess and render, wherever they run. */
export interface ImageWork {
  /** Decodes and preprocesses (throws ImageDecodeError, by name, for undecodable bytes). */
  prepare(
    bytes: Uint8Array,
    card: ModelCard,
    priority?: Priority,
    options?: PrepareOptions,
  ): Promise<Prepared>;
  /** The overlay, heatmap and statistics (at the image's own resolution unless options cap it). */
  render(
    image: DecodedImage,
    geometry: Geometry,
    cam: Cam,
    priority?: Priority,
    options?: RenderOptions,
  ): Promise<Explanation>;
  /** `render` for several CAMs of one image (several targets), in one task. */
  renderMany(
    image: DecodedImage,
    geometry: Geometry,
    cams: Cam[],
    priority?: Priority,
    options?: RenderOptions,
  ): Promise<Explanation[]>;
  close(): Promise<void>;
  readonly healthy: boolean;
}

/** Requests to an image thread. */
export type ImageRequest =
  | { type: 'prepare'; bytes: Uint8Array; card: ModelCard; options?: PrepareOptions }
  | {
      type: 'render';
      image: DecodedImage;
      geometry: Geometry;
      cam: Cam;
      options?: RenderOptions;
    }
  | {
      type: 'render-many';
      image: DecodedImage;
      geometry: Geometry;
      cams: Cam[];
      options?: RenderOptions;
    };

/** Renders one image's CAMs one after the other (each output streams the image's rows). */
export async function renderMany(
  image: DecodedImage,
  geometry: Geometry,
  cams: Cam[],
  options?: RenderOptions,
): Promise<Explanation[]> {
  const out: Explanation[] = [];
  for (const cam of cams) out.push(await renderExplanation(image, geometry, cam, options));
  return out;
}

/** An image thread's answer. */
export type ImageReply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** Decodes and preprocesses in the calling thread. */
export async function prepareImage(
  bytes: Uint8Array,
  card: ModelCard,
  options?: PrepareOptions,
): Promise<Prepared> {
  const t0 = performance.now();
  const image = await decodeImage(bytes, { dicomFrame: options?.dicomFrame });
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
  prepare(
    bytes: Uint8Array,
    card: ModelCard,
    _priority?: Priority,
    options?: PrepareOptions,
  ): Promise<Prepared> {
    return prepareImage(bytes, card, options);
  }

  /** Renders here. */
  render(
    image: DecodedImage,
    geometry: Geometry,
    cam: Cam,
    _priority?: Priority,
    options?: RenderOptions,
  ): Promise<Explanation> {
    return renderExplanation(image, geometry, cam, options);
  }

  /** Renders each CAM here. */
  renderMany(
    image: DecodedImage,
    geometry: Geometry,
    cams: Cam[],
    _priority?: Priority,
    options?: RenderOptions,
  ): Promise<Explanation[]> {
    return renderMany(image, geometry, cams, options);
  }

  async close(): Promise<void> {}
}

/** Piscina's task queue with realtime tasks first (each list in arrival order). */
class PriorityQueue implements TaskQueue {
  private readonly lists: Record<Priority, PiscinaTask[]> = { realtime: [], bulk: [] };

  get size(): number {
    return this.lists.realtime.length + this.lists.bulk.length;
  }

  push(task: PiscinaTask): void {
    const options = (task as unknown as Record<symbol, { priority?: Priority } | null>)[
      Piscina.queueOptionsSymbol
    ];
    this.lists[options?.priority === 'realtime' ? 'realtime' : 'bulk'].push(task);
  }

  shift(): PiscinaTask | null {
    return this.lists.realtime.shift() ?? this.lists.bulk.shift() ?? null;
  }

  remove(task: PiscinaTask): void {
    for (const list of Object.values(this.lists)) {
      const i = list.indexOf(task);
      if (i >= 0) list.splice(i, 1);
    }
  }
}

/**
 * Image work spread over worker threads, a piscina pool: a thread that dies (a crash in a
 * codec, an out-of-memory abort) fails only the tasks it was running, as transient errors (the
 * jobs retry), and is replaced. Each thread takes at most two tasks at a time (one can compute
 * while the other waits on libvips or zlib); the rest wait in the pool's queue, realtime tasks
 * first, so a realtime image never queues behind a bulk run's backlog.
 */
export class ImagePool implements ImageWork {
  private readonly pool: Piscina;
  private closed = false;

  /** `size` threads; default one per core but one (the engine thread needs a core too). */
  constructor(size = Math.max(1, availableParallelism() - 1)) {
    const threads = Math.max(1, Math.floor(size));
    // Resolved through this package's exports, which also works when the caller runs from
    // sources (tests), as long as `tsc -b` has built dist/.
    const entry = createRequire(import.meta.url).resolve('@camflow/worker/image-thread');
    this.pool = new Piscina({
      filename: pathToFileURL(entry).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 2,
      // Tasks await libvips and zlib on libuv's pool: no Atomics.wait between them.
      atomics: 'disabled',
      taskQueue: new PriorityQueue(),
      recordTiming: false,
    });
    // A thread that dies with no task in flight is replaced; nothing to fail.
    this.pool.on('error', () => {});
  }

  /** False once closed (dead threads are replaced, so the pool itself stays usable). */
  get healthy(): boolean {
    return !this.closed && this.pool.threads.length > 0;
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.pool.queueSize;
  }

  /** The pool's threads. */
  get size(): number {
    return this.pool.threads.length;
  }

  /** The pool's worker threads (tests stop one to check that the pool recovers). */
  get threads(): readonly import('node:worker_threads').Worker[] {
    return this.pool.threads;
  }

  private async submit<T>(
    request: ImageRequest,
    transferList: ArrayBuffer[],
    priority: Priority,
  ): Promise<T> {
    if (this.closed) throw new TransientError('worker-thread', 'the image threads are closing');
    let reply: ImageReply;
    try {
      reply = await this.pool.run(
        Object.assign(request, { [Piscina.queueOptionsSymbol]: { priority } }),
        { transferList },
      );
    } catch (err) {
      // The task never ran to its end: its thread died, or the pool is closing.
      throw new TransientError(
        'worker-thread',
        `an image thread stopped: ${(err as Error)?.message ?? String(err)}`,
      );
    }
    if (!reply.ok) throw fromWire(reply.error);
    return reply.value as T;
  }

  /** Decodes and preprocesses in a thread; the bytes move there (the caller must not reuse them). */
  prepare(
    bytes: Uint8Array,
    card: ModelCard,
    priority: Priority = 'bulk',
    options?: PrepareOptions,
  ): Promise<Prepared> {
    const moved = transferable(bytes);
    return this.submit(
      { type: 'prepare', bytes: moved, card, options },
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
    options?: RenderOptions,
  ): Promise<Explanation> {
    const moved = { ...image, data: transferable(image.data) };
    return this.submit(
      { type: 'render', image: moved, geometry, cam, options },
      [moved.data.buffer as ArrayBuffer],
      priority,
    );
  }

  /** Renders several CAMs of one image in a thread; the image's pixels move there. */
  renderMany(
    image: DecodedImage,
    geometry: Geometry,
    cams: Cam[],
    priority: Priority = 'bulk',
    options?: RenderOptions,
  ): Promise<Explanation[]> {
    const moved = { ...image, data: transferable(image.data) };
    return this.submit(
      { type: 'render-many', image: moved, geometry, cams, options },
      [moved.data.buffer as ArrayBuffer],
      priority,
    );
  }

  /** Stops every thread (safe to call twice); tasks still waiting or running fail as transient. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}
