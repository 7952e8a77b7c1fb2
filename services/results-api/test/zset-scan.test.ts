import { type EmbeddedRedis, startRedisServer } from '@camflow/storage';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanZset } from '../src/store/zset-scan.js';

let server: EmbeddedRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

const collect = async (gen: AsyncGenerator<{ member: string }>, n = Number.POSITIVE_INFINITY) => {
  const out: string[] = [];
  for await (const p of gen) {
    out.push(p.member);
    if (out.length >= n) break;
  }
  return out;
};

describe('scanZset', () => {
  it('walks (score, member) order in both directions across batches', async () => {
    for (let i = 0; i < 50; i++)
      await redis.zadd('z', Math.floor(i / 10), `m${String(i).padStart(2, '0')}`);
    const all = await collect(scanZset(redis, 'z', { batch: 7 }));
    expect(all).toHaveLength(50);
    expect(all).toEqual([...all].sort());
    const rev = await collect(scanZset(redis, 'z', { batch: 7, reverse: true }));
    expect(rev).toEqual([...all].reverse());
  });

  it('continues after a cursor whose member moved, skipping equal-score members before it', async () => {
    // m15 (score 1) moves to score 9 after a page ended on it.
    const after = { score: 1, member: 'm15' };
    await redis.zadd('z', 9, 'm15');
    const rest = await collect(scanZset(redis, 'z', { after, batch: 3 }));
    expect(rest[0]).toBe('m16');
    expect(rest).not.toContain('m14');
    expect(rest.at(-1)).toBe('m15');
    expect(rest).toHaveLength(35);
  });
});

describe('scanZset with removals while it walks', () => {
  /**
   * A client that, before every command the scan sends, removes with a second connection the
   * set's first member in walk order (one already seen, once the walk is under way): the removal
   * lands between any two of the scan's round trips. Earlier members leaving must not shift the
   * walk past members that stay.
   */
  const removingBeforeEachCommand = (
    client: Redis,
    other: Redis,
    key: string,
    reverse: boolean,
    popped: string[],
  ) =>
    new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const [member] = reverse ? await other.zpopmax(key) : await other.zpopmin(key);
          if (member !== undefined) popped.push(member);
          return value.apply(target, args);
        };
      },
    });

  for (const reverse of [false, true]) {
    it(`sees every member that stays, once and in order${reverse ? ' (reverse)' : ''}`, async () => {
      const key = `zr-${reverse}`;
      for (let i = 0; i < 60; i++) await redis.zadd(key, i % 4, `m${String(i).padStart(2, '0')}`);
      const other = new Redis(server.url);
      const popped: string[] = [];
      try {
        const walker = removingBeforeEachCommand(redis, other, key, reverse, popped);
        const seen = await collect(scanZset(walker, key, { batch: 3, reverse }));
        const stayed = await redis.zrange(key, 0, -1);
        if (reverse) stayed.reverse();
        expect(popped.length).toBeGreaterThan(3);
        expect(stayed.length).toBeGreaterThan(0);
        expect(new Set(seen).size).toBe(seen.length);
        // Every member still in the set was seen, in the set's own order.
        expect(seen.filter((m) => stayed.includes(m))).toEqual(stayed);
      } finally {
        other.disconnect();
      }
    });
  }
});

it('reads and resumes from infinite scores', async () => {
  await redis.zadd('zi', '-inf', 'low', 0, 'mid', '+inf', 'high', '+inf', 'higher');
  const all: { member: string; score: number }[] = [];
  for await (const p of scanZset(redis, 'zi', { batch: 1 })) all.push(p);
  expect(all.map((p) => p.score)).toEqual([
    Number.NEGATIVE_INFINITY,
    0,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
  ]);
  await redis.zrem('zi', 'high');
  const after = { score: Number.POSITIVE_INFINITY, member: 'high' };
  expect(await collect(scanZset(redis, 'zi', { after }))).toEqual(['higher']);
});
