import { PermanentError, TransientError } from '@camflow/contracts';
import { describe, expect, it } from 'vitest';
import {
  type BatchExplainer,
  type BatchItem,
  type BatchReport,
  type ExplainBatchOptions,
  MicroBatcher,
} from '../src/micro-batcher.js';

/** A fake engine: image i's scores are [x, 1 - x] where x is its first value; its CAM is 2x3 filled with x. */
class FakeExplainer implements BatchExplainer {
  calls: { ids: number[]; opts: ExplainBatchOptions }[] = [];
  gate?: Promise<void>;
  fail?: Error;
  private waiters: { n: number; resolve: () => void }[] = [];

  /** Resolves once `n` batches have reached the engine (the event tests wait for, not a sleep). */
  called(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async explain(batch: { data: Float32Array; dims: number[] }, opts: ExplainBatchOptions) {
    const [n] = batch.dims;
    const per = batch.data.length / n;
    const ids = Array.from({ length: n }, (_, i) => batch.data[i * per]);
    this.calls.push({ ids, opts });
    for (const w of this.waiters) if (this.calls.length >= w.n) w.resolve();
    await this.gate;
    if (this.fail) throw this.fail;
    const scores = new Float32Array(ids.flatMap((x) => [x, 1 - x]));
    const cams = new Float32Array(n * 6);
    for (const [i, x] of ids.entries()) cams.fill(x, i * 6, (i + 1) * 6);
    const result = {
      scores,
      numClasses: 2,
      targets: opts.target.map((t, i) => (t === 'predicted' ? (ids[i] >= 0.5 ? 0 : 1) : t)),
      layer: opts.layer ?? 'default.layer',
      cams: { data: cams, dims: [n, 2, 3] },
    };
    if (!Array.isArray(opts.targets)) return result;
    // Several targets: map (i, k) of class c is filled with 10 * x + c, image-major.
    const row = opts.targets;
    const many = new Float32Array(n * row.length * 6);
    ids.forEach((x, i) => {
      row.forEach((c, k) => {
        many.fill(10 * x + c, (i * row.length + k) * 6, (i * row.length + k + 1) * 6);
      });
    });
    const perTarget = {
      count: row.length,
      classes: ids.flatMap(() => row),
      scores: Float32Array.from(ids.flatMap((x) => row.map((c) => (c === 0 ? x : 1 - x)))),
      cams: { data: many, dims: [n, row.length, 2, 3] },
    };
    return { ...result, targets: ids.map(() => row[0]), perTarget };
  }

  async predict(batch: { data: Float32Array; dims: number[] }) {
    const [n] = batch.dims;
    const per = batch.data.length / n;
    const ids = Array.from({ length: n }, (_, i) => batch.data[i * per]);
    return { scores: new Float32Array(ids.flatMap((x) => [x, 1 - x])), numClasses: 2 };
  }
}

const item = (explainer: BatchExplainer, id: number, over: Partial<BatchItem> = {}): BatchItem => ({
  key: { model: 'm@1', layer: 'l', method: 'gradcam' },
  explainer,
  tensor: new Float32Array([id, 0, 0, 0]),
  shape: [1, 2, 2],
  target: 'predicted',
  priority: 'bulk',
  ...over,
});

const deferred = () => {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
};

describe('MicroBatcher', () => {
  it('runs concurrent images as one batch and gives each its own slice', async () => {
    const fake = new FakeExplainer();
    const reports: BatchReport[] = [];
    const b = new MicroBatcher({ batchSize: 8, maxWaitMs: 1000, onBatch: (r) => reports.push(r) });
    const ids = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9];
    const results = await Promise.all(
      ids.map((id, i) => b.submit(item(fake, id, { target: i === 0 ? 1 : 'predicted' }))),
    );
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0].ids.map((x) => Math.round(x * 10))).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    expect(fake.calls[0].opts).toMatchObject({ layer: 'l', method: 'gradcam' });
    expect(fake.calls[0].opts.target).toEqual([1, ...Array(7).fill('predicted')]);
    results.forEach((r, i) => {
      expect(r.scores[0]).toBeCloseTo(ids[i], 6);
      expect(r.scores[1]).toBeCloseTo(1 - ids[i], 6);
      expect(r.cam.width).toBe(3);
      expect(r.cam.height).toBe(2);
      expect([...r.cam.data].every((v) => Math.abs(v - ids[i]) < 1e-6)).toBe(true);
      expect(r.batchSize).toBe(8);
      expect(r.layer).toBe('l');
    });
    expect(results[0].target).toBe(1);
    expect(results[7].target).toBe(0);
    expect(reports).toEqual([expect.objectContaining({ size: 8, ok: true })]);
  });

  it('several targets: each image gets its own maps, classes and scores; other targets batch apart', async () => {
    const fake = new FakeExplainer();
    const b = new MicroBatcher({ batchSize: 8, maxWaitMs: 50 });
    const many = { model: 'm@1', layer: 'l', method: 'gradcam' as const, targets: [1, 0] };
    const [a, c, single] = await Promise.all([
      b.submit(item(fake, 0.25, { key: many })),
      b.submit(item(fake, 0.75, { key: many })),
      b.submit(item(fake, 0.5)),
    ]);
    expect(fake.calls.map((x) => x.ids.length).sort()).toEqual([1, 2]);
    expect(fake.calls.find((x) => x.ids.length === 2)?.opts.targets).toEqual([1, 0]);
    for (const [r, x] of [
      [a, 0.25],
      [c, 0.75],
    ] as const) {
      expect(r.perTarget?.classes).toEqual([1, 0]);
      expect(r.perTarget?.scores).toEqual([1 - x, x]);
      expect(r.perTarget?.cams.map((m) => [m.width, m.height, m.data.length])).toEqual([
        [3, 2, 6],
        [3, 2, 6],
      ]);
      expect(r.perTarget?.cams.map((m) => [...new Set(m.data)])).toEqual([[10 * x + 1], [10 * x]]);
    }
    expect(single.perTarget).toBeUndefined();
  });

  it('splits at the batch size and runs a partial batch after the max wait', async () => {
    const fake = new FakeExplainer();
    const b = new MicroBatcher({ batchSize: 4, maxWaitMs: 20 });
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => b.submit(item(fake, i))),
    );
    expect(fake.calls.map((c) => c.ids.length)).toEqual([4, 4, 2]);
    expect(results.map((r) => r.scores[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The last two waited for companions, but only about maxWaitMs.
    expect(results[9].waitMs).toBeGreaterThanOrEqual(15);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a lone image runs after the max wait', async () => {
    const fake = new FakeExplainer();
    const b = new MicroBatcher({ batchSize: 8, maxWaitMs: 10 });
    const r = await b.submit(item(fake, 0.5));
    expect(r.batchSize).toBe(1);
    expect(r.waitMs).toBeGreaterThanOrEqual(9);
  });

  it('never mixes models, layers, methods or shapes in one batch', async () => {
    const fake = new FakeExplainer();
    const b = new MicroBatcher({ batchSize: 8, maxWaitMs: 5 });
    await Promise.all([
      b.submit(item(fake, 1)),
      b.submit(item(fake, 2, { key: { model: 'm@2', layer: 'l', method: 'gradcam' } })),
      b.submit(item(fake, 3, { key: { model: 'm@1', layer: 'k', method: 'gradcam' } })),
      b.submit(item(fake, 4, { key: { model: 'm@1', layer: 'l', method: 'layercam' } })),
      b.submit(item(fake, 5, { shape: [4, 1, 1] })),
      b.submit(item(fake, 6)),
    ]);
    const batches = fake.calls.map((c) => c.ids).sort((a, b) => a[0] - b[0]);
    expect(batches).toEqual([[1, 6], [2], [3], [4], [5]]);
  });

  it('puts realtime images first in the next batch', async () => {
    const fake = new FakeExplainer();
    const gate = deferred();
    fake.gate = gate.promise;
    const b = new MicroBatcher({ batchSize: 2, maxWaitMs: 0 });
    const first = b.submit(item(fake, 1));
    await fake.called(1); // the first batch is running and holds the engine
    const rest = [
      b.submit(item(fake, 2)),
      b.submit(item(fake, 3)),
      b.submit(item(fake, 4)),
      b.submit(item(fake, 9, { priority: 'realtime' })),
    ];
    gate.open();
    await Promise.all([first, ...rest]);
    expect(fake.calls.map((c) => c.ids)).toEqual([[1], [9, 2], [3, 4]]);
  });

  it('runs a group with realtime images before an older bulk group', async () => {
    const fake = new FakeExplainer();
    const gate = deferred();
    fake.gate = gate.promise;
    const b = new MicroBatcher({ batchSize: 4, maxWaitMs: 0 });
    const first = b.submit(item(fake, 1));
    await fake.called(1);
    const bulk = b.submit(item(fake, 2, { key: { model: 'bulk@1', method: 'gradcam' } }));
    const realtime = b.submit(
      item(fake, 3, { key: { model: 'rt@1', method: 'gradcam' }, priority: 'realtime' }),
    );
    gate.open();
    await Promise.all([first, bulk, realtime]);
    expect(fake.calls.map((c) => c.ids)).toEqual([[1], [3], [2]]);
  });

  it('rejects every image of a failed batch with a classified error', async () => {
    const fake = new FakeExplainer();
    const unknownLayer = new Error('unknown layer "nope"; close matches: resnet_blocks.4');
    unknownLayer.name = 'UnknownLayerError';
    fake.fail = unknownLayer;
    const reports: BatchReport[] = [];
    const b = new MicroBatcher({ batchSize: 3, maxWaitMs: 50, onBatch: (r) => reports.push(r) });
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => b.submit(item(fake, i))));
    expect(fake.calls).toHaveLength(1);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const err = (o as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.reason).toBe('unknown-layer');
      expect(err.message).toContain('unknown layer "nope"');
    }
    expect(reports).toEqual([expect.objectContaining({ size: 3, ok: false })]);

    fake.fail = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    await expect(b.submit(item(fake, 4))).rejects.toBeInstanceOf(TransientError);
  });

  it('close() runs waiting images at once and waits for them', async () => {
    const fake = new FakeExplainer();
    const b = new MicroBatcher({ batchSize: 8, maxWaitMs: 60_000 });
    const pending = [b.submit(item(fake, 1)), b.submit(item(fake, 2))];
    expect(b.pending).toBe(2);
    const t0 = performance.now();
    await b.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await Promise.all(pending)).map((r) => r.batchSize)).toEqual([2, 2]);
    expect(b.pending).toBe(0);
  });

  it('with two engine slots, two batches run at once', async () => {
    const fake = new FakeExplainer();
    const gate = deferred();
    fake.gate = gate.promise;
    const b = new MicroBatcher({ batchSize: 1, maxWaitMs: 0, maxConcurrentBatches: 2 });
    const all = [1, 2, 3].map((i) => b.submit(item(fake, i)));
    await fake.called(2);
    // Both slots are taken: the third waits for one rather than reaching the engine.
    expect(fake.calls).toHaveLength(2);
    expect(b.pending).toBe(1);
    gate.open();
    await Promise.all(all);
    expect(fake.calls).toHaveLength(3);
  });
});
