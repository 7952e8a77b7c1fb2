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
