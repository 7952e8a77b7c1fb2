import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { FixedWindowLimiter } from '../src/rate-limit.js';
import { readLines } from '../src/sources/lines.js';
import { ManifestParser, splitCsv } from '../src/sources/manifest-parser.js';

const parseAll = (lines: string[], bucket = 'data') => {
  const p = new ManifestParser(bucket);
  return lines.map((l) => p.parse(l));
};

describe('manifest lines', () => {
  test('CSV without a header: key[,label], integer labels as numbers', () => {
    expect(parseAll(['a.png,1', 'b.png', 'c.png,normal', 'd.png, -2 '])).toEqual([
      { entry: { key: 'a.png', label: 1 } },
      { entry: { key: 'b.png' } },
      { entry: { key: 'c.png', label: 'normal' } },
      { entry: { key: 'd.png', label: -2 } },
    ]);
  });

  test('CSV header picks columns by name; BOM, quotes, blanks and comments', () => {
    const r = parseAll([
      '\uFEFFlabel,path,key',
      '1,x,"a ""b"", c.png"',
      '',
      '# note',
      '0,y,plain.png',
    ]);
    expect(r).toEqual([
      { skip: 'header' },
      { entry: { key: 'a "b", c.png', label: 1 } },
      { skip: 'blank' },
      { skip: 'blank' },
      { entry: { key: 'plain.png', label: 0 } },
    ]);
  });

  test('JSONL, s3:// keys in the run bucket, invalid lines', () => {
    expect(
      parseAll([
        '{"key": "a.png", "label": 3}',
        '{"key": "s3://data/b.png"}',
        '{"key": "s3://other/c.png"}',
        '{"key": 5}',
        '{"key": "d.png", "label": 1.5}',
        'nope',
      ]),
    ).toEqual([
      { entry: { key: 'a.png', label: 3 } },
      { entry: { key: 'b.png' } },
      { invalid: 'key in another bucket (other)' },
      { invalid: 'no "key" string' },
      { invalid: '"label" must be an integer or a string' },
      { invalid: 'not JSON' },
    ]);
  });

  test('splitCsv', () => {
    expect(splitCsv('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsv('"x,y",z')).toEqual(['x,y', 'z']);
    expect(splitCsv('"open')).toBeUndefined();
  });

  test('readLines: CRLF, no final newline, UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('café.png,1\r\nb.png\n\nlast', 'utf8');
    const chunks = [bytes.subarray(0, 4), bytes.subarray(4, 13), bytes.subarray(13)];
    const lines: string[] = [];
    for await (const l of readLines(Readable.from(chunks))) lines.push(l);
    expect(lines).toEqual(['café.png,1', 'b.png', '', 'last']);
  });
});

describe('FixedWindowLimiter', () => {
  test('counts per caller per window', () => {
    let now = 10_000;
    const l = new FixedWindowLimiter(2, 1000, () => now);
    expect(l.take('a').ok).toBe(true);
    expect(l.take('a').ok).toBe(true);
    now = 10_400;
    expect(l.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    expect(l.take('b').ok).toBe(true);
    now = 11_000;
    expect(l.take('a').ok).toBe(true);
  });
});
