// Object keys an attacker (or a careless uploader) might use to make outputs land outside the
// run's prefix: fixed ones, then seeded random ones from an alphabet of path-ish characters.

/** Keys chosen by hand: dot segments, absolute paths, empty segments, encodings, NUL, unicode. */
export const HOSTILE_KEYS = [
  '..',
  '.',
  '../../x',
  '../../../etc/passwd',
  'a/../../b',
  '/abs',
  '/abs/../../root.png',
  'a//b',
  '//',
  '/',
  'a/',
  '%2e%2e',
  '%2e%2e/%2e%2e/x',
  '..%2f..%2fx',
  '%2F..%2F',
  '.../....',
  'a/./b',
  '\\..\\..\\windows',
  'x\u0000/../y',
  '\u0000',
  'ward 3/é 胸部.png',
  '\u202e\u2026/\uff0e\uff0e/x',
  'a?b#c',
  'scan+1.png',
  '~/.ssh/id_rsa',
];

const ALPHABET = [
  '.',
  '.',
  '/',
  '/',
  '%',
  '2',
  'e',
  'E',
  'f',
  '\\',
  '\u0000',
  ' ',
  '+',
  'a',
  'é',
  '\uff0e',
  '?',
  '#',
  '~',
];

/** `count` random keys (1..24 characters), the same every run for a given seed. */
export function randomKeys(count: number, seed = 0x5eed): string[] {
  let state = seed >>> 0;
  const next = () => {
    // xorshift32: deterministic, no dependency.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const n = 1 + Math.floor(next() * 24);
    return Array.from({ length: n }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');
  });
}
