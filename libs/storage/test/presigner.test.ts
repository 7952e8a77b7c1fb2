import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';
import { MAX_PRESIGN_SECONDS, Presigner } from '../src/presigner.js';

const when = new Date('2026-11-27T22:15:01.123Z');
const keys = [
  'scans/a.png',
  'scans/b c.png',
  'scans/ü+1.png',
  "odd/!'()*~-_.png",
  'deep//double/slash%41.png',
  'explanations/data/chest/test/img%201.png/x0f3a/overlay.png',
];

const client = (config: S3ClientConfig) =>
  new S3Client({
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY' },
    region: 'eu-west-1',
    // As createS3Client: no checksum mode (S3-compatible servers reject the SDK's checksums).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...config,
  });

const sdk = (c: S3Client, bucket: string, key: string, expiresIn: number) =>
  getSignedUrl(c, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn,
    signingDate: when,
  });

describe('Presigner: expiry and the signing-key cache', () => {
  test("an expiry past SigV4's 7 days is capped at 604800 s (S3 refuses longer ones)", async () => {
    const c = client({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    const p = new Presigner(c);
    const url = new URL((await p.presign('b', 'k.png', 30 * 24 * 3600, when)) as string);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(MAX_PRESIGN_SECONDS));
    expect(MAX_PRESIGN_SECONDS).toBe(604800);
    c.destroy();
  });

  test('across the UTC day boundary the cached signing key is renewed: both days match the SDK', async () => {
    const c = client({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    const p = new Presigner(c);
    for (const at of [
      '2026-11-27T23:59:59.500Z',
      '2026-11-28T00:00:00.500Z',
      '2026-11-27T23:59:59.900Z',
    ]) {
      const d = new Date(at);
      const ours = await p.presign('b', 'scans/a.png', 900, d);
      const theirs = await getSignedUrl(
        c,
        new GetObjectCommand({ Bucket: 'b', Key: 'scans/a.png' }),
        {
          expiresIn: 900,
          signingDate: d,
        },
      );
      expect(ours, at).toBe(theirs);
      expect(new URL(ours as string).searchParams.get('X-Amz-Credential')).toContain(
        `/${at.slice(0, 10).replaceAll('-', '')}/`,
      );
    }
    c.destroy();
  });
});

describe('Presigner: the same URLs as the SDK', () => {
  test.each([
    [
      'a path-style endpoint (MinIO, s3rver)',
      { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
    ],
    [
      'an endpoint with a base path',
      { endpoint: 'https://s3.example.org/store/', forcePathStyle: true },
    ],
    ['a virtual-hosted endpoint', { endpoint: 'https://objects.example.org' }],
    ['AWS (virtual-hosted)', {}],
    [
      'temporary credentials (session token)',
      {
        credentials: {
          accessKeyId: 'ASIAEXAMPLE',
          secretAccessKey: 'secret',
          sessionToken: 'token/with+odd=chars',
        },
      },
    ],
  ] as [string, S3ClientConfig][])('%s', async (_name, config) => {
    const c = client(config);
    const p = new Presigner(c);
    for (const key of keys) {
      for (const expires of [60, 900]) {
        const ours = await p.presign('camflow-out', key, expires, when);
        expect(ours).toBe(await sdk(c, 'camflow-out', key, expires));
        const put = await p.presign('camflow-out', key, expires, when, 'PUT');
        expect(put).toBe(
          await getSignedUrl(c, new PutObjectCommand({ Bucket: 'camflow-out', Key: key }), {
            expiresIn: expires,
            signingDate: when,
          }),
        );
      }
    }
    c.destroy();
  });

  test('leaves to the SDK what it does not address: dotted buckets on AWS, other partitions, FIPS', async () => {
    const aws = client({});
    expect(await new Presigner(aws).presign('my.bucket', 'k', 60, when)).toBeUndefined();
    for (const config of [{ region: 'cn-north-1' }, { useFipsEndpoint: true }]) {
      const c = client(config);
      expect(await new Presigner(c).presign('camflow-out', 'k', 60, when)).toBeUndefined();
      c.destroy();
    }
    aws.destroy();
  });

  test('leaves keys with "." or ".." segments to the SDK (URL parsers would collapse them)', async () => {
    const c = client({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    const p = new Presigner(c);
    for (const key of ['x/../../hostile.png', './a.png', 'a/./b.png', 'a/..'])
      expect(await p.presign('b', key, 60, when), key).toBeUndefined();
    expect(await p.presign('b', 'a..b/.hidden.png', 60, when)).toBeDefined();
    c.destroy();
  });
});

// s3rver cannot store keys with an empty path segment (real S3 can).
const served = [...keys.filter((k) => !k.includes('//')), 'deep/slash%41.png'];

describe('Presigner against a real S3 server (s3rver)', () => {
  let svc: TestServices;
  beforeAll(async () => {
    svc = await startTestServices();
    await svc.store.ensureBucket('signed');
    for (const key of served) await svc.store.put('signed', key, key, 'text/plain');
  });
  afterAll(async () => {
    await svc?.close();
  });

  // s3rver checks expiry but not V4 signatures ("unimplemented" in its source): byte equality
  // with the SDK's URLs above is what shows the signatures right.
  test('every URL fetches its object; an expired one is refused', async () => {
    for (const key of served) {
      const url = await svc.store.presign('signed', key, 60);
      const r = await fetch(url);
      expect(r.status, key).toBe(200);
      expect(await r.text()).toBe(key);
    }
    const old = await new Presigner(svc.store.client).presign(
      'signed',
      keys[0],
      1,
      new Date(Date.now() - 10_000),
    );
    expect((await fetch(old as string)).status).toBe(403);
  });
});
