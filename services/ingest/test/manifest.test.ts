import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

describe('label sets (multi-label manifests)', () => {
  const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/byom');
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));

  test('a `labels` column of |-separated names and JSONL arrays read as the same sets', () => {
    for (const file of ['multilabel.csv', 'multilabel.jsonl']) {
      const lines = readFileSync(join(FIXTURES, file), 'utf8').split('\n');
      const entries = parseAll(lines).flatMap((r) => ('entry' in r ? [r.entry] : []));
      expect(
        entries.map((e) => e.key),
        file,
      ).toEqual(expected.keys);
      expect(
        entries.map((e) => e.labels),
        file,
      ).toEqual(expected['cxr14-tiny'].labels);
    }
  });

  test('CSV: an empty cell is no finding, integers are indices, a label once; no column, no set', () => {
    expect(
      parseAll([
        'key,label,labels',
        'a.png,,Mass | Nodule|Mass',
        'b.png,,',
        'c.png,x,3|Edema',
        'd.png',
      ]),
    ).toEqual([
      { skip: 'header' },
      { entry: { key: 'a.png', labels: ['Mass', 'Nodule'] } },
      { entry: { key: 'b.png', labels: [] } },
      { entry: { key: 'c.png', label: 'x', labels: [3, 'Edema'] } },
      { entry: { key: 'd.png' } },
    ]);
    expect(parseAll(['key,label', 'a.png,Mass|Nodule'])).toEqual([
      { skip: 'header' },
      { entry: { key: 'a.png', label: 'Mass|Nodule' } },
    ]);
  });

  test('JSONL: "labels" or a list under "label"; bad sets are reported lines', () => {
    expect(
      parseAll([
        '{"key": "a.png", "labels": ["Mass", 2]}',
        '{"key": "b.png", "label": ["Edema"]}',
        '{"key": "c.png", "labels": []}',
        '{"key": "d.png", "labels": [1.5]}',
        '{"key": "e.png", "labels": "Mass"}',
        JSON.stringify({ key: 'f.png', labels: Array.from({ length: 1001 }, (_, i) => i) }),
        JSON.stringify({ key: 'g.png', labels: ['x'.repeat(256)] }),
      ]),
    ).toEqual([
      { entry: { key: 'a.png', labels: ['Mass', 2] } },
      { entry: { key: 'b.png', labels: ['Edema'] } },
      { entry: { key: 'c.png', labels: [] } },
      { invalid: '"labels" must be a list of class names or integers' },
      { invalid: '"labels" must be a list of class names or integers' },
      { invalid: 'more than 1000 labels' },
      { invalid: 'a label longer than 255 characters' },
    ]);
  });
});
