import { describe, expect, test } from 'vitest';
import { unsafeKey, unsafeRequestPath } from '../src/s3rver-guard.js';

describe('s3rver guard', () => {
  test('refuses paths whose key leaves the bucket folder, after percent-decoding', () => {
    expect(unsafeRequestPath('/b/x/../../../escape.png')).toMatch(/"\." or "\.\." segments/);
    expect(unsafeRequestPath('/b/x/%2E%2E/%2e%2e/escape.png')).toMatch(/segments/);
    expect(unsafeRequestPath('/b/a%00b.png')).toMatch(/control characters/);
    expect(unsafeRequestPath('/b/%E0%A4%A')).toBe('bad percent-encoding');
    expect(unsafeRequestPath('/../etc')).toMatch(/bucket/);
  });

  test('lets normal requests through: buckets, keys, folders, unicode', () => {
    for (const path of ['/', '/b', '/b/', '/b/scans/a%20b.png', '/b/folder/', '/b/%C3%A9/x.png'])
      expect(unsafeRequestPath(path), path).toBeUndefined();
  });

  test('refuses a segment the file system cannot name (s3rver crashed with ENAMETOOLONG)', () => {
    expect(unsafeKey(`${'a'.repeat(201)}.png`)).toMatch(/over 200 bytes/);
    expect(unsafeKey(`${'a'.repeat(196)}.png`)).toBeUndefined();
  });
});
