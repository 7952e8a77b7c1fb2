/**
 * The per-image CPU work around the engine: decode + preprocess before, render (CAM to source
 * resolution, overlay, 16-bit heatmap, statistics) after. For a 1024x1024 image that is a few
 * hundred milliseconds of JavaScript, so `ImagePool` runs it in worker threads: the main thread
 * stays free and a worker process uses every core, not one.
 */
import { availableParallelism } from 'node:os';
import {
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
}

/** Decode/preprocess and render, wherever they run. */
export interface ImageWork {
  /** Decodes and preprocesses (throws ImageDecodeError, by name, for undecodable bytes). */
  prepare(bytes: Uint8Array, card: ModelCard): Promise<Prepared>;
  /** The overlay, heatmap and statistics at the image's own resolution. */
  render(image: DecodedImage, geometry: Geometry, cam: Cam): Promise<Explanation>;
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

/** Image work spread over worker threads (each request goes to the least busy one). */
export class ImagePool implements ImageWork {
  private readonly threads: ThreadClient[];

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

  private pick(): ThreadClient {
    return this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  /** Decodes and preprocesses in a thread; the bytes move there (the caller must not reuse them). */
  prepare(bytes: Uint8Array, card: ModelCard): Promise<Prepared> {
    const moved = transferable(bytes);
    return this.pick().call<Prepared>({ type: 'prepare', bytes: moved, card }, [
      moved.buffer as ArrayBuffer,
    ]);
  }

  /** Renders in a thread; the image's pixels move there. */
  render(image: DecodedImage, geometry: Geometry, cam: Cam): Promise<Explanation> {
    const moved = { ...image, data: transferable(image.data) };
    return this.pick().call<Explanation>({ type: 'render', image: moved, geometry, cam }, [
      moved.data.buffer as ArrayBuffer,
    ]);
  }

  /** Stops every thread (safe to call twice). */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
