// runUntilSignal: handlers before start-up, a signal during start-up ends the wait at once, a
// signal after it closes the service, a second signal cuts a slow close short.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runUntilSignal } from '../src/index.js';

const signals = () => new EventEmitter() as unknown as Pick<NodeJS.Process, 'on' | 'off'>;
const emit = (s: ReturnType<typeof signals>, name: string) =>
  (s as unknown as EventEmitter).emit(name, name);

describe('runUntilSignal', () => {
  it('SIGTERM during a start-up that never finishes resolves 0 at once', async () => {
    const s = signals();
    const lines: string[] = [];
    const done = runUntilSignal('worker', () => new Promise(() => {}), {
      signals: s,
      log: (l) => lines.push(l),
    });
    emit(s, 'SIGTERM');
    await expect(done).resolves.toBe(0);
    expect(lines).toEqual(['camflow worker: SIGTERM during start-up, exiting']);
    expect((s as unknown as EventEmitter).listenerCount('SIGTERM')).toBe(0);
  });

  it('closes a started service on SIGINT, once', async () => {
    const s = signals();
    let closed = 0;
    let started!: () => void;
    const up = new Promise<void>((r) => {
      started = r;
    });
    const done = runUntilSignal(
      'ingest',
      async () => {
        started();
        return { close: async () => void closed++ };
      },
      { signals: s, log: () => {} },
    );
    await up;
    await Promise.resolve(); // the service object is handed over on the next tick
    emit(s, 'SIGINT');
    await expect(done).resolves.toBe(0);
    expect(closed).toBe(1);
  });

  it('a second signal during a slow close exits 1', async () => {
    const s = signals();
    const done = runUntilSignal(
      'results',
      async () => ({ close: () => new Promise<void>(() => {}) }),
      { signals: s, log: () => {} },
    );
    await new Promise((r) => setImmediate(r));
    emit(s, 'SIGTERM');
    emit(s, 'SIGTERM');
    await expect(done).resolves.toBe(1);
  });

  it('a start-up error rejects, and the handlers are gone', async () => {
    const s = signals();
    const done = runUntilSignal('worker', async () => Promise.reject(new Error('no')), {
      signals: s,
      log: () => {},
    });
    await expect(done).rejects.toThrow('no');
    expect((s as unknown as EventEmitter).listenerCount('SIGTERM')).toBe(0);
  });
});
