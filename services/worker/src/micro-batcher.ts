/**
 * Micro-batching across concurrent jobs: each job submits one preprocessed image; images that
 * share a model, layer, method, score mode and tensor shape run together in one engine call.
 * A group runs when it holds `batchSize` images or its oldest image has waited `maxWaitMs`.
 * Realtime images go first, both inside a group and when choosing which ready group runs next.
 */
import type { CamMethod, CellGrid } from '@camflow/engine';
import { toJobError } from './job-errors.js';

/** What the engine (or a fake in tests) must offer the batcher: one call per batch. */
export interface BatchExplainer {
  explain(
    batch: { data: Float32Array; dims: number[] },
    opts: ExplainBatchOptions,
  ): Promise<ExplainOutput>;
  /** The plain model's outputs (no gradients), [N, K]: the audit's occlusion passes. */
  predict(batch: { data: Float32Array; dims: number[] }): Promise<PredictOutput>;
}

/** The plain model's answer for a batch of N images with K outputs. */
export interface PredictOutput {
  /** [N, K] */
  scores: Float32Array;
  numClasses: number;
}

/** Several targets per image, the same for the whole batch (the engine's `targets`). */
export type BatchTargets = 'all' | number[] | { top: number };

export interface ExplainBatchOptions {
  layer?: string;
  method: CamMethod;
  /** One target per image: a class index or 'predicted' (argmax). */
  target: Array<'predicted' | number>;
  score?: 'output' | 'logit';
  /** Several maps per image in one pass (overrides `target`). */
  targets?: BatchTargets;
}

/** The engine's answer for a batch of N images with K outputs. */
export interface ExplainOutput {
  /** [N, K] */
  scores: Float32Array;
  numClasses: number;
  targets: number[];
  /** The resolved layer name. */
  layer: string;
  /** [N, h, w] */
  cams: { data: Float32Array; dims: number[] };
  /** The layer's receptive-field grid, where the graph gives one. */
  grid?: CellGrid;
  /** With `targets`: K maps per image, image-major ([N, K, h, w]), their classes and scores. */
  perTarget?: {
    count: number;
    classes: number[];
    scores: Float32Array;
    cams: { data: Float32Array; dims: number[] };
  };
}

/** Which images may share a batch (besides their tensor shape). */
export interface BatchKey {
  /** `name@version` */
  model: string;
  layer?: string;
  method: CamMethod;
  score?: 'output' | 'logit';
  /** Images asking for several targets run with others asking for the same ones. */
  targets?: BatchTargets;
}

export interface BatchItem {
  key: BatchKey;
  explainer: BatchExplainer;
  /** One image, without the batch dimension. */
  tensor: Float32Array;
  /** The image's dims without the batch dimension, e.g. [3, 256, 256]. */
  shape: readonly number[];
  target: 'predicted' | number;
  priority: 'realtime' | 'bulk';
}

/** One image's slice of its batch's result. */
export interface ItemResult {
  /** This image's K scores. */
  scores: number[];
  numClasses: number;
  target: number;
  layer: string;
  cam: { data: Float32Array; width: number; height: number };
  /** The layer's receptive-field grid (engine), for cards that draw CAMs on it. */
  grid?: CellGrid;
  /** With `targets`: this image's maps, one per target, with their classes and scores. */
  perTarget?: {
    classes: number[];
    scores: number[];
    cams: { data: Float32Array; width: number; height: number }[];
  };
  /** How many images ran in the same engine call. */
  batchSize: number;
  /** Time from submit to the batch starting, and the engine call itself (ms). */
  waitMs: number;
  runMs: number;
}

/** Reported after every engine call (metrics). */
export interface BatchReport {
  size: number;
  realtime: number;
  runMs: number;
  ok: boolean;
}

export interface MicroBatcherOptions {
  /** Most images per engine call (BATCH_SIZE). */
  batchSize: number;
  /** Longest an image waits for companions before its group runs anyway; default 15 ms. */
  maxWaitMs?: number;
  /** Engine calls in flight at once; default 1 (one call already uses every core). */
  maxConcurrentBatches?: number;
  onBatch?: (report: BatchReport) => void;
}

interface Pending {
  item: BatchItem;
  submittedAt: number;
  resolve(result: ItemResult): void;
  reject(err: unknown): void;
}

interface Group {
  id: string;
  realtime: Pending[];
  bulk: Pending[];
  /** When the oldest waiting image arrived. */
  oldest: number;
}

const size = (g: Group) => g.realtime.length + g.bulk.length;

/** Groups images from concurrent jobs into engine calls. */
export class MicroBatcher {
  private readonly groups = new Map<string, Group>();
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly maxConcurrent: number;
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private timerAt = Number.POSITIVE_INFINITY;
  private flushing = false;

  constructor(private readonly options: MicroBatcherOptions) {
    this.batchSize = Math.max(1, Math.floor(options.batchSize));
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 15);
    this.maxConcurrent = Math.max(1, options.maxConcurrentBatches ?? 1);
  }

  /** Images waiting for a batch (not counting those whose batch is running). */
  get pending(): number {
    let n = 0;
    for (const g of this.groups.values()) n += size(g);
    return n;
  }

  /** Queues one image; resolves with its own scores, target and CAM, or rejects with a classified error. */
  submit(item: BatchItem): Promise<ItemResult> {
    return new Promise<ItemResult>((resolve, reject) => {
      const id = JSON.stringify([
        item.key.model,
        item.key.layer ?? '',
        item.key.method,
        item.key.score ?? 'output',
        item.shape,
        item.key.targets ?? null,
      ]);
      let group = this.groups.get(id);
      const now = performance.now();
      if (!group) {
        group = { id, realtime: [], bulk: [], oldest: now };
        this.groups.set(id, group);
      }
      group[item.priority].push({ item, submittedAt: now, resolve, reject });
      this.dispatch();
    });
  }

  /** Runs everything still waiting without further delay, then waits for every engine call. */
  async close(): Promise<void> {
    this.flushing = true;
    this.dispatch();
    while (this.inFlight.size > 0 || this.pending > 0) {
      await Promise.race(this.inFlight);
      this.dispatch();
    }
    if (this.timer) clearTimeout(this.timer);
  }

  private isReady(g: Group, now: number): boolean {
    return this.flushing || size(g) >= this.batchSize || now - g.oldest >= this.maxWaitMs;
  }

  /** Starts ready groups while engine slots are free; otherwise arms a timer for the next one. */
  private dispatch(): void {
    while (this.running < this.maxConcurrent) {
      const now = performance.now();
      const next = this.nextReady(now);
      if (!next) break;
      this.start(next, now);
    }
    this.arm();
  }

  /** Groups holding realtime images first, then the longest waiting. */
  private nextReady(now: number): Group | undefined {
    let best: Group | undefined;
    for (const g of this.groups.values()) {
      if (!this.isReady(g, now)) continue;
      if (
        !best ||
        (g.realtime.length > 0 && best.realtime.length === 0) ||
        (g.realtime.length > 0 === best.realtime.length > 0 && g.oldest < best.oldest)
      ) {
        best = g;
      }
    }
    return best;
  }

  private arm(): void {
    if (this.running >= this.maxConcurrent || this.groups.size === 0) return;
    let due = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) due = Math.min(due, g.oldest + this.maxWaitMs);
    if (due >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.dispatch();
      },
      Math.max(0, due - performance.now()),
    );
  }

  private start(group: Group, now: number): void {
    const taken = group.realtime.splice(0, this.batchSize);
    taken.push(...group.bulk.splice(0, this.batchSize - taken.length));
    if (size(group) === 0) this.groups.delete(group.id);
    else group.oldest = Math.min(...[...group.realtime, ...group.bulk].map((p) => p.submittedAt));
    this.running++;
    const run = this.run(taken, now).finally(() => {
      this.running--;
      this.inFlight.delete(run);
      // Let I/O callbacks (lock renewals, S3 replies) in before the next engine call.
      setImmediate(() => this.dispatch());
    });
    this.inFlight.add(run);
  }

  private async run(batch: Pending[], startedAt: number): Promise<void> {
    const first = batch[0].item;
    const per = first.tensor.length;
    const data = new Float32Array(per * batch.length);
    for (const [i, p] of batch.entries()) data.set(p.item.tensor, i * per);
    const realtime = batch.filter((p) => p.item.priority === 'realtime').length;
    let out: ExplainOutput;
    try {
      out = await first.explainer.explain(
        { data, dims: [batch.length, ...first.shape] },
        {
          layer: first.key.layer,
          method: first.key.method,
          score: first.key.score,
          target: batch.map((p) => p.item.target),
          ...(first.key.targets !== undefined && { targets: first.key.targets }),
        },
      );
    } catch (err) {
      const runMs = performance.now() - startedAt;
      this.options.onBatch?.({ size: batch.length, realtime, runMs, ok: false });
      const classified = toJobError(err);
      for (const p of batch) p.reject(classified);
      return;
    }
    const runMs = performance.now() - startedAt;
    this.options.onBatch?.({ size: batch.length, realtime, runMs, ok: true });
    const k = out.numClasses;
    const [, height, width] = out.cams.dims;
    const area = height * width;
    const many = out.perTarget;
    batch.forEach((p, i) => {
      p.resolve({
        ...(many && { perTarget: slicePerTarget(many, i) }),
        scores: Array.from(out.scores.subarray(i * k, (i + 1) * k)),
        numClasses: k,
        target: out.targets[i],
        layer: out.layer,
        cam: { data: out.cams.data.slice(i * area, (i + 1) * area), width, height },
        grid: out.grid,
        batchSize: batch.length,
        waitMs: startedAt - p.submittedAt,
        runMs,
      });
    });
  }
}

/** Image i's maps of a many-target batch. */
function slicePerTarget(many: NonNullable<ExplainOutput['perTarget']>, i: number) {
  const k = many.count;
  const [, , height, width] = many.cams.dims;
  const area = height * width;
  return {
    classes: many.classes.slice(i * k, (i + 1) * k),
    scores: Array.from(many.scores.subarray(i * k, (i + 1) * k)),
    cams: Array.from({ length: k }, (_, j) => ({
      data: many.cams.data.slice((i * k + j) * area, (i * k + j + 1) * area),
      width,
      height,
    })),
  };
}
