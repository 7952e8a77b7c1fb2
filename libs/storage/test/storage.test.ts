import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServices, type TestServices } from '../../../test/support/services.js';

let svc: TestServices;
beforeAll(async () => {
  svc = await startTestServices();
});
afterAll(async () => {
  await svc?.close();
});

describe('S3Store against a real S3 server (s3rver)', () => {
  test('put, head, get, list with pagination, presign', async () => {
    const { store } = svc;
    await store.ensureBucket('data');
    await store.ensureBucket('data'); // idempotent
    const keys = ['scans/a.png', 'scans/b c.png', 'scans/ü+1.png', 'other/x.png'];
    for (const k of keys) await store.put('data', k, new TextEncoder().encode(k), 'image/png');
    const head = await store.head('data', 'scans/b c.png');
    expect(head?.size).toBe('scans/b c.png'.length);
    expect(head?.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(await store.head('data', 'scans/missing.png')).toBeUndefined();
    const got = await store.get('data', 'scans/ü+1.png');
    expect(new TextDecoder().decode(got.body)).toBe('scans/ü+1.png');
    const page1 = await store.list('data', 'scans/', undefined, 2);
    expect(page1.objects).toHaveLength(2);
    expect(page1.next).toBeDefined();
    const page2 = await store.list('data', 'scans/', page1.next, 2);
    expect([...page1.objects, ...page2.objects].map((o) => o.key).sort()).toEqual(
      keys.slice(0, 3).sort(),
    );
    expect(page2.next).toBeUndefined();
    const url = await store.presign('data', 'scans/a.png', 60);
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('scans/a.png');
  });

  test('a missing object is a permanent not-found; a too-large one fails before download', async () => {
    await expect(svc.store.get('data', 'nope.png')).rejects.toMatchObject({ name: 'NoSuchKey' });
    await svc.store.put('data', 'big.bin', new Uint8Array(1000), 'application/octet-stream');
    await expect(svc.store.get('data', 'big.bin', { maxBytes: 10 })).rejects.toThrow(/limit is 10/);
  });

  test('get and put go the presigned fast way (no SDK request) and keep what the SDK keeps', async () => {
    const { store } = svc;
    await store.ensureBucket('data');
    const sent: string[] = [];
    const send = store.client.send.bind(store.client);
    store.client.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      sent.push(command.constructor.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof store.client.send;
    try {
      const body = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
      await store.put('data', 'fast/ü b.jpg', body, 'image/jpeg');
      await store.put('data', 'fast/r.json', '{"a":1}', 'application/json');
      const got = await store.get('data', 'fast/ü b.jpg');
      expect(Buffer.from(got.body).equals(Buffer.from(body))).toBe(true);
      expect(got.contentType).toBe('image/jpeg');
      expect(sent).toEqual([]);
      // The same metadata the SDK reports (HEAD goes through the SDK).
      expect(got.info.etag).toBe((await store.head('data', 'fast/ü b.jpg'))?.etag);
      expect(new TextDecoder().decode((await store.get('data', 'fast/r.json')).body)).toBe(
        '{"a":1}',
      );
      // Failures are the SDK's: the fast path hands a missing object over to it.
      sent.length = 0;
      await expect(store.get('data', 'fast/missing')).rejects.toMatchObject({ name: 'NoSuchKey' });
      expect(sent).toEqual(['GetObjectCommand']);
    } finally {
      store.client.send = send;
    }
  });
});
