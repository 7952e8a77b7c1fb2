import { PermanentError, TransientError } from '@camflow/contracts';
import { decodeImage, encodeSamplePngs, seedCard, synthesizeSample } from '@camflow/imaging';
import { afterAll, describe, expect, it } from 'vitest';
import { ImagePool, InlineImageWork, type Priority } from '../src/image-work.js';
import { toJobError } from '../src/job-errors.js';

const png = async (i: number) =>
  new Uint8Array((await encodeSamplePngs(synthesizeSample({ count: 8, seed: 2 }, i))).image);
const cam = { width: 8, height: 8, data: Float32Array.from({ length: 64 }, (_, i) => i % 9) };

describe('ImagePool (image worker threads)', () => {
  const pool = new ImagePool(1);
  afterAll(() => pool.close());

  it('prepares and renders exactly as inline work does', async () => {
    const inline = new InlineImageWork();
    const bytes = await png(0);
    const [a, b] = await Promise.all([
      pool.prepare(bytes.slice(), seedCard),
      inline.prepare(bytes, seedCard),
    ]);
    expect(a.shape).toEqual([3, 256, 256]);
    expect(a.geometry).toEqual(b.geometry);
    expect(Buffer.from(a.tensor.buffer).equals(Buffer.from(b.tensor.buffer))).toBe(true);
    expect(a.image.width).toBe(256);
    const [ra, rb] = await Promise.all([
      pool.render(a.image, a.geometry, cam),
      inline.render(b.image, b.geometry, cam),
    ]);
    expect(ra.stats).toEqual(rb.stats);
    expect(Buffer.from(ra.heatmap).equals(Buffer.from(rb.heatmap))).toBe(true);
    const overlay = await decodeImage(ra.overlay);
    expect([overlay.width, overlay.height]).toEqual([256, 256]);
  });

  it('renders several CAMs of one image in a thread as inline work renders each', async () => {
    const inline = new InlineImageWork();
    const bytes = await png(2);
    const a = await pool.prepare(bytes.slice(), seedCard);
    const b = await inline.prepare(bytes, seedCard);
    const other = { ...cam, data: cam.data.map((v) => 8 - v) };
    const many = await pool.renderMany(a.image, a.geometry, [cam, other]);
    const each = [
      await inline.render({ ...b.image, data: b.image.data.slice() }, b.geometry, cam),
      await inline.render(b.image, b.geometry, other),
    ];
    expect(many).toHaveLength(2);
    many.forEach((r, k) => {
      expect(r.stats).toEqual(each[k].stats);
      expect(Buffer.from(r.heatmap).equals(Buffer.from(each[k].heatmap))).toBe(true);
      expect(Buffer.from(r.overlay).equals(Buffer.from(each[k].overlay))).toBe(true);
    });
    expect(Buffer.from(many[0].heatmap).equals(Buffer.from(many[1].heatmap))).toBe(false);
  });

  it('fails undecodable bytes with the decode error, which is permanent', async () => {
    const bytes = (await png(1)).subarray(0, 300);
    const err = await pool.prepare(bytes, seedCard).catch((e) => e);
    expect(err.name).toBe('ImageDecodeError');
    const classified = toJobError(err);
    expect(classified).toBeInstanceOf(PermanentError);
    expect(['truncated', 'corrupt']).toContain(classified.reason);
  });

  // Retried: completion order on a shared 2-core machine is not fully deterministic.
  it('runs realtime tasks before the bulk backlog', { retry: 2 }, async () => {
    const images = await Promise.all([0, 1, 2, 3, 4, 5, 6].map(png));
    const order: string[] = [];
    const run = (i: number, priority: Priority) =>
      pool.prepare(images[i], seedCard, priority).then(() => order.push(`${priority}${i}`));
    const all = [0, 1, 2, 3, 4, 5].map((i) => run(i, 'bulk'));
    expect(pool.queued).toBe(4); // two per thread are running
    all.push(run(6, 'realtime'));
    await Promise.all(all);
    // The realtime task takes the first free slot, ahead of the 4 queued bulk tasks, so it
    // starts before all of them. Completion order also depends on how the two running tasks
    // interleave on a loaded machine, so the check is on the last queued bulk task: it starts
    // after the realtime one and three more have finished or started.
    expect(order.indexOf('realtime6')).toBeLessThan(order.indexOf('bulk5'));
  });

  it('replaces a thread killed mid-task: that task fails as transient, later ones succeed', async () => {
    const own = new ImagePool(1);
    try {
      const images = await Promise.all([2, 3, 4].map(png));
      await own.prepare(images[0].slice(), seedCard); // the thread is up and ready
      const [thread] = own.threads;
      const inFlight = own.prepare(images[1].slice(), seedCard);
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      await thread.terminate();
      // Submitted while the thread is gone: they wait for the replacement.
      const later = Promise.all([
        own.prepare(images[2].slice(), seedCard),
        own.prepare(images[0].slice(), seedCard),
      ]);
      await exited;
      const err = await inFlight.catch((e) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect(err.reason).toBe('worker-thread');
      // The pool started a new thread: later tasks run there.
      const prepared = await later;
      for (const p of prepared) expect(p.shape).toEqual([3, 256, 256]);
      expect(own.threads).toHaveLength(1);
      expect(own.threads[0]).not.toBe(thread);
      expect(own.healthy).toBe(true);
      const cam16 = { width: 8, height: 8, data: new Float32Array(64).fill(1) };
      const r = await own.render(prepared[1].image, prepared[1].geometry, cam16);
      expect(r.width).toBe(256);
    } finally {
      await own.close();
    }
    expect(own.healthy).toBe(false);
    const closed = await own.prepare(await png(5), seedCard).catch((e) => e);
    expect(closed).toBeInstanceOf(TransientError);
  });
});
