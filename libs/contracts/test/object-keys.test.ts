import { posix } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  bucketViolation,
  checkObjectKey,
  createJobRequestSchema,
  createRunRequestSchema,
  explainJobSchema,
  keyViolation,
  outputKeys,
  UnsafeKeyError,
} from '../src/index.js';

describe('the key policy', () => {
  const cases: [string, string | undefined][] = [
    ['scans/one.png', undefined],
    ['a b/é ü/x+y=z.png', undefined],
    ['deep/a/b/c/d.dcm', undefined],
    ['...hidden/x.png', undefined], // three dots is a name, not a dot segment
    ['', 'empty'],
    ['../other/private/b-only.png', 'dot-segment'],
    ['set/../../other/x.png', 'dot-segment'],
    ['./x.png', 'dot-segment'],
    ['a/./b.png', 'dot-segment'],
    ['a/..', 'dot-segment'],
    ['/abs/x.png', 'leading-slash'],
    ['a//b.png', 'empty-segment'],
    ['folder/', 'empty-segment'],
    ['a\u0000b.png', 'control-character'],
    ['a\nb.png', 'control-character'],
    ['a\u007fb.png', 'control-character'],
    ['a\u0085b.png', 'control-character'],
    ['a\ud800b.png', 'invalid-utf8'],
    ['a\ufffdb.png', 'invalid-utf8'],
    ['x'.repeat(1024), undefined],
    ['x'.repeat(1025), 'too-long'],
    ['é'.repeat(513), 'too-long'], // 1026 bytes of UTF-8 in 513 characters
  ];
  test.each(cases)('%j -> %s', (key, rule) => {
    expect(keyViolation(key)?.rule).toBe(rule);
  });

  test('a message names the key and the rule', () => {
    const v = keyViolation('../other/x.png');
    expect(v?.message).toBe('key "../other/x.png": keys may not contain "." or ".." segments');
    expect(() => checkObjectKey('a//b')).toThrow(UnsafeKeyError);
  });

  test('prefixes may be empty or end with "/", but follow the same rules', () => {
    expect(keyViolation('', { prefix: true })).toBeUndefined();
    expect(keyViolation('set/', { prefix: true })).toBeUndefined();
    expect(keyViolation('set/sub', { prefix: true })).toBeUndefined();
    expect(keyViolation('../', { prefix: true })?.rule).toBe('dot-segment');
    expect(keyViolation('set//', { prefix: true })?.rule).toBe('empty-segment');
    expect(keyViolation('/set/', { prefix: true })?.rule).toBe('leading-slash');
  });

  test('bucket names', () => {
    for (const ok of ['data', 'my.bucket', 'camflow-outputs', 'Legacy_Bucket'])
      expect(bucketViolation(ok)).toBeUndefined();
    for (const bad of ['..', '.', 'a', 'a..b', '-abc', 'abc.', 'a/b', 'x'.repeat(64), 'a\u0000b'])
      expect(bucketViolation(bad)).toMatch(/^bucket /);
  });
});

describe('the policy in the request and job schemas', () => {
  const run = (source: object) =>
    createRunRequestSchema.safeParse({ model: 'm@1', source: { bucket: 'data', ...source } });
  const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
    r.success ? [] : r.error!.issues.map((i) => i.message);

  test('run keys, prefix and manifest path', () => {
    expect(run({ keys: ['a.png', 'b/c.png'] }).success).toBe(true);
    expect(messages(run({ keys: ['ok.png', '../other/private/b-only.png'] }))).toEqual([
      'key "../other/private/b-only.png": keys may not contain "." or ".." segments',
    ]);
    expect(messages(run({ prefix: '../other/' }))[0]).toMatch(/^prefix "..\/other\/": .*segments/);
    expect(messages(run({ manifest: '../other/set/manifest.csv' }))[0]).toMatch(/"\.\." segments/);
    expect(run({ prefix: '' }).success).toBe(true);
    expect(
      createRunRequestSchema.safeParse({ model: 'm@1', source: { bucket: '..', prefix: 'x/' } })
        .success,
    ).toBe(false);
  });

  test('single jobs and job payloads', () => {
    const job = (key: string) =>
      createJobRequestSchema.safeParse({ model: 'm@1', source: { bucket: 'data', key } });
    expect(job('scans/a.png').success).toBe(true);
    expect(job('set/../../other/x.png').success).toBe(false);
    const payload = (key: string) =>
      explainJobSchema.safeParse({
        runId: 'r',
        source: { bucket: 'data', key },
        settings: { model: 'm@1' },
        submittedAt: 1,
      });
    expect(payload('a.png').success).toBe(true);
    expect(payload('a/../../b.png').success).toBe(false);
  });
});

describe('output keys stay valid S3 keys for every valid source key', () => {
  const jobId = `x${'0'.repeat(40)}`;
  const valid = (out: string) =>
    Buffer.byteLength(out) <= 1024 &&
    out
      .split('/')
      .every((s) => s !== '' && s !== '.' && s !== '..' && Buffer.byteLength(s) <= 255) &&
    posix.normalize(out) === out;

  test('short keys keep one encoded segment per key segment', () => {
    const o = outputKeys('data', 'scans/a b.png', jobId);
    expect(o.overlayKey).toBe(`explanations/data/scans/a%20b.png/${jobId}/overlay.png`);
  });

  test('a long segment keeps a readable prefix and a hash; different keys stay apart', () => {
    const a = outputKeys('data', `x/${'é'.repeat(120)}.png`, jobId).resultKey;
    const b = outputKeys('data', `x/${'é'.repeat(121)}.png`, jobId).resultKey;
    expect(valid(a) && valid(b)).toBe(true);
    expect(a).toMatch(/^explanations\/data\/x\/(%C3%A9)+~[0-9a-f]{16}\//);
    expect(a).not.toBe(b);
  });

  test('keys at the 1024-byte limit, of every shape', () => {
    const keys = [
      'é'.repeat(512),
      `${'ab/'.repeat(341)}c`,
      `${'%/'.repeat(340)}x.png`,
      Array.from({ length: 50 }, (_, i) => `${'ü'.repeat(8)}${i}`).join('/'),
      `${'x'.repeat(254)}/${'y'.repeat(254)}/${'z'.repeat(254)}/${'w'.repeat(254)}`,
    ];
    for (const key of keys) {
      expect(keyViolation(key)).toBeUndefined();
      for (const bucket of ['b1', 'x'.repeat(63)]) {
        for (const out of Object.values(outputKeys(bucket, key, jobId)))
          expect(valid(out), `${key.slice(0, 40)} -> ${out.length} bytes`).toBe(true);
      }
    }
  });
});
