import { describe, expect, it } from 'vitest';
import { linkKey, linkPrincipal, signLink, verifyLink } from '../src/links.js';

describe('browser links', () => {
  const key = linkKey(undefined, '{"tok":{}}');
  const now = 1_800_000_000;

  it('verify while valid, for the runs they name, read-only', () => {
    const link = signLink(key, { runs: ['run-a', 'run-b'], exp: now + 60 });
    const claims = verifyLink(key, link, now);
    expect(claims).toEqual({ runs: ['run-a', 'run-b'], exp: now + 60 });
    const p = linkPrincipal(claims!);
    expect(p.scopes).toEqual(['results:read']);
    expect(p.runs).toEqual(['run-a', 'run-b']);
    expect(p.buckets).toEqual([]);
  });

  it('refuse expired, altered or foreign links', () => {
    const link = signLink(key, { runs: ['run-a'], exp: now + 60 });
    expect(verifyLink(key, link, now + 61)).toBeUndefined();
    const [body, mac] = link.split('.');
    const forged = Buffer.from(JSON.stringify({ runs: ['run-z'], exp: now + 60 })).toString(
      'base64url',
    );
    expect(verifyLink(key, `${forged}.${mac}`, now)).toBeUndefined();
    expect(verifyLink(key, `${body}.${mac.slice(0, -2)}`, now)).toBeUndefined();
    // The last character's spare bits: another spelling of the same bytes is refused too.
    const last = mac.at(-1) as string;
    const twin = String.fromCharCode(last.charCodeAt(0) ^ 1);
    expect(verifyLink(key, `${body}.${mac.slice(0, -1)}${twin}`, now)).toBeUndefined();
    expect(
      verifyLink(linkKey('another-secret-of-at-least-32-characters', undefined), link, now),
    ).toBeUndefined();
    // Changing the API tokens (without a link secret) revokes every link.
    expect(verifyLink(linkKey(undefined, '{"other":{}}'), link, now)).toBeUndefined();
    expect(verifyLink(key, 'garbage', now)).toBeUndefined();
  });
});
