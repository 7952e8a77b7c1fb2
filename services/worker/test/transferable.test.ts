// What goes into a transfer list must be transferable on every supported Node: from Node 22 on,
// memory a native addon allocated (sharp's output) is marked untransferable, and one such buffer
// in a transfer list fails the whole message (the image threads died on every job).
import { MessageChannel } from 'node:worker_threads';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { transferable } from '../src/thread-rpc.js';

/** Posts `a`'s buffer in a transfer list; resolves with what arrives. */
function post(a: Uint8Array): Promise<Uint8Array> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<Uint8Array>((resolve, reject) => {
    port2.once('message', (m: Uint8Array) => resolve(m));
    try {
      port1.postMessage(a, [a.buffer as ArrayBuffer]);
    } catch (err) {
      reject(err);
    }
  }).finally(() => {
    port1.close();
    port2.close();
  });
}

describe('transferable', () => {
  test("a whole-buffer view over sharp's output can be transferred", async () => {
    const buf = await sharp({
      create: { width: 8, height: 4, channels: 3, background: '#808080' },
    })
      .raw()
      .toBuffer();
    const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const arrived = await post(transferable(view));
    expect(arrived.length).toBe(8 * 4 * 3);
    expect(arrived.every((v) => v === 128)).toBe(true);
  });

  test('an array that owns its buffer moves without a copy; views and Buffers are copied', () => {
    const own = new Float32Array(4);
    expect(transferable(own)).toBe(own);
    const view = new Uint8Array(new ArrayBuffer(8), 2, 4);
    expect(transferable(view)).not.toBe(view);
    const b = Buffer.from([1, 2, 3]);
    expect(transferable(b)).not.toBe(b);
  });
});
