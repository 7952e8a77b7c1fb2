import type { Redis } from 'ioredis';

/** A position in a sorted set: the last (score, member) a page ended on. */
export interface ZPosition {
  score: number;
  member: string;
}

/**
 * One batch strictly after a position, read in one script so that a member removed or moved
 * between the rank lookup and the range read cannot shift ranks under it (which skipped members).
 * KEYS[1]: the set. ARGV: reverse ('1'|'0'), batch, has-position ('1'|'0'), score, member.
 * Returns [member, score, member, score, ...]; fewer than `batch` pairs means the set is exhausted.
 * Members compare byte-wise (Redis's own order): Lua's `<` uses the server's collation locale.
 */
const SCAN_BATCH = `
local key, rev, batch = KEYS[1], ARGV[1] == '1', tonumber(ARGV[2])
local function lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local start, s, m = 0, nil, nil
if ARGV[3] == '1' then
  s, m = tonumber(ARGV[4]), ARGV[5]
  local cur = redis.call('ZSCORE', key, m)
  local rank = false
  if cur and tonumber(cur) == s then
    if rev then rank = redis.call('ZREVRANK', key, m) else rank = redis.call('ZRANK', key, m) end
  end
  if rank then
    start, s = rank + 1, nil
  elseif rev then
    start = redis.call('ZCOUNT', key, '(' .. ARGV[4], '+inf')
  else
    start = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[4])
  end
end
-- s is still set only when the member moved: equal-score members up to it must be skipped.
local out = {}
while #out < batch * 2 do
  local flat
  if rev then
    flat = redis.call('ZREVRANGE', key, start, start + batch - 1, 'WITHSCORES')
  else
    flat = redis.call('ZRANGE', key, start, start + batch - 1, 'WITHSCORES')
  end
  for i = 1, #flat, 2 do
    local pm, ps = flat[i], flat[i + 1]
    local keep = true
    if s and tonumber(ps) == s then
      if rev then keep = lt(pm, m) else keep = lt(m, pm) end
    end
    if keep and #out < batch * 2 then
      out[#out + 1] = pm
      out[#out + 1] = ps
    end
  end
  if #flat < batch * 2 then break end
  start = start + batch
end
return out
`;

/**
 * Walks a sorted set in (score, member) order (descending with `reverse`) strictly after
 * `after`. Each batch is one atomic script that restarts from the last member yielded, so
 * members inserted, moved or removed between batches never make another appear twice or be
 * skipped; new members after the position are seen, those before it are not.
 */
export async function* scanZset(
  redis: Redis,
  key: string,
  opts: { after?: ZPosition; reverse?: boolean; batch?: number } = {},
): AsyncGenerator<ZPosition> {
  const batch = opts.batch ?? 200;
  const reverse = opts.reverse ?? false;
  let after = opts.after;
  for (;;) {
    const position = after ? ['1', formatScore(after.score), after.member] : ['0', '', ''];
    const flat = (await redis.eval(
      SCAN_BATCH,
      1,
      key,
      reverse ? '1' : '0',
      String(batch),
      ...position,
    )) as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      after = { member: flat[i], score: parseScore(flat[i + 1]) };
      yield after;
    }
    if (flat.length < batch * 2) return;
  }
}

// Redis writes infinite scores as "inf"/"-inf", which Number() does not read.
function parseScore(s: string): number {
  if (s === 'inf' || s === '+inf') return Number.POSITIVE_INFINITY;
  if (s === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

function formatScore(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+inf';
  if (n === Number.NEGATIVE_INFINITY) return '-inf';
  return String(n);
}
