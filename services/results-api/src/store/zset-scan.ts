import type { Redis } from 'ioredis';

/** A position in a sorted set: the last (score, member) a page ended on. */
export interface ZPosition {
  score: number;
  member: string;
}

/**
 * Walks a sorted set in (score, member) order (descending with `reverse`) strictly after
 * `after`. Each batch restarts from the last member's rank, so members inserted concurrently
 * never make an existing one appear twice or be skipped; new members after the position are
 * seen, those before it are not.
 */
export async function* scanZset(
  redis: Redis,
  key: string,
  opts: { after?: ZPosition; reverse?: boolean; batch?: number } = {},
): AsyncGenerator<ZPosition> {
  const batch = opts.batch ?? 200;
  const reverse = opts.reverse ?? false;
  let after = opts.after;
  let start = after ? await indexAfter(redis, key, after, reverse) : 0;
  for (;;) {
    const flat = reverse
      ? await redis.zrevrange(key, start, start + batch - 1, 'WITHSCORES')
      : await redis.zrange(key, start, start + batch - 1, 'WITHSCORES');
    let last: ZPosition | undefined;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const pos = { member: flat[i], score: Number(flat[i + 1]) };
      // Only needed on the slow path (the cursor's member moved): skip what is not after it.
      if (after && !isAfter(pos, after, reverse)) continue;
      last = pos;
      yield pos;
    }
    if (flat.length < batch * 2) return;
    if (last) {
      after = last;
      start = await indexAfter(redis, key, after, reverse);
    } else start += batch;
  }
}

/** Index of the first member strictly after `pos` in iteration order. */
async function indexAfter(
  redis: Redis,
  key: string,
  pos: ZPosition,
  reverse: boolean,
): Promise<number> {
  const score = await redis.zscore(key, pos.member);
  if (score !== null && Number(score) === pos.score) {
    const rank = reverse
      ? await redis.zrevrank(key, pos.member)
      : await redis.zrank(key, pos.member);
    if (rank !== null) return rank + 1;
  }
  // The member is gone or moved: start at the first member with the cursor's score and let the
  // caller skip the equal-score ones that sort before the cursor.
  return reverse
    ? redis.zcount(key, `(${pos.score}`, '+inf')
    : redis.zcount(key, '-inf', `(${pos.score}`);
}

function isAfter(p: ZPosition, after: ZPosition, reverse: boolean): boolean {
  const c =
    p.score !== after.score
      ? p.score - after.score
      : p.member < after.member
        ? -1
        : p.member > after.member
          ? 1
          : 0;
  return reverse ? c < 0 : c > 0;
}
