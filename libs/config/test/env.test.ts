import { describe, expect, test } from 'vitest';
import { ConfigError, isPlaceholder, loadConfig } from '../src/index.js';

const tokens = (...names: string[]) =>
  JSON.stringify(Object.fromEntries(names.map((n) => [n, { scopes: ['admin'] }])));

describe('HOST', () => {
  test('127.0.0.1 unless set; IPv4, IPv6 and names accepted', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', 'pod.example.internal']) {
      expect(loadConfig({ HOST: host }).HOST).toBe(host);
    }
  });

  test('anything else is refused naming the variable', () => {
    expect(() => loadConfig({ HOST: 'http://0.0.0.0:80' })).toThrow(
      /^environment variable HOST: expected an IP address/,
    );
  });
});

describe('execution provider', () => {
  test('`cuda!` means cuda, required; REQUIRE_PROVIDER says the same', () => {
    expect(loadConfig({ EXECUTION_PROVIDER: 'cuda!' })).toMatchObject({
      EXECUTION_PROVIDER: 'cuda',
      REQUIRE_PROVIDER: true,
    });
    expect(loadConfig({ EXECUTION_PROVIDER: 'cuda', REQUIRE_PROVIDER: 'true' })).toMatchObject({
      EXECUTION_PROVIDER: 'cuda',
      REQUIRE_PROVIDER: true,
    });
    expect(loadConfig({ EXECUTION_PROVIDER: 'cuda' }).REQUIRE_PROVIDER).toBe(false);
    expect(() => loadConfig({ EXECUTION_PROVIDER: 'tpu!' })).toThrow(/EXECUTION_PROVIDER/);
  });
});

describe('worker settings', () => {
  test('WORKER_QUEUES: both by default, a fleet may take one', () => {
    expect(loadConfig({}).WORKER_QUEUES).toEqual(['realtime', 'bulk']);
    expect(loadConfig({ WORKER_QUEUES: ' bulk ' }).WORKER_QUEUES).toEqual(['bulk']);
    expect(() => loadConfig({ WORKER_QUEUES: 'bulk,gpu' })).toThrow(/WORKER_QUEUES/);
  });

  test('WORKER_IMAGE_THREADS and METRICS_PORT are numbers', () => {
    expect(loadConfig({ WORKER_IMAGE_THREADS: '3', METRICS_PORT: '9100' })).toMatchObject({
      WORKER_IMAGE_THREADS: 3,
      METRICS_PORT: 9100,
    });
    expect(() => loadConfig({ WORKER_IMAGE_THREADS: '0' })).toThrow(/WORKER_IMAGE_THREADS/);
  });

  test('S3_PUBLIC_ENDPOINT is a URL', () => {
    expect(loadConfig({ S3_PUBLIC_ENDPOINT: 'https://s3.example.org' }).S3_PUBLIC_ENDPOINT).toBe(
      'https://s3.example.org',
    );
    expect(() => loadConfig({ S3_PUBLIC_ENDPOINT: 's3.example.org' })).toThrow(
      /S3_PUBLIC_ENDPOINT/,
    );
  });
});

describe('placeholder credentials are refused at start-up', () => {
  const cases: [string, Record<string, string>][] = [
    ['CAMFLOW_API_TOKENS', { CAMFLOW_API_TOKENS: tokens('a'.repeat(32), 'CHANGE-ME-admin-token') }],
    ['CAMFLOW_API_TOKENS', { CAMFLOW_API_TOKENS: tokens('dev-admin-token-NOT-FOR-PRODUCTION') }],
    ['S3_ACCESS_KEY_ID', { S3_ACCESS_KEY_ID: 'CHANGE-ME-access-key' }],
    ['S3_SECRET_ACCESS_KEY', { S3_SECRET_ACCESS_KEY: 'minioadmin' }],
    ['REDIS_URL', { REDIS_URL: 'redis://:changeme@redis:6379' }],
    ['CAMFLOW_TOKEN', { CAMFLOW_TOKEN: 'replace-me-with-a-token' }],
  ];
  test.each(cases)('%s', (name, env) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(new RegExp(`^environment variable ${name}: .*placeholder`));
    // The value itself is never echoed (it may be half of a real secret).
    for (const v of Object.values(env)) expect(message).not.toContain(v);
  });

  test('real-looking credentials pass', () => {
    const c = loadConfig({
      CAMFLOW_API_TOKENS: tokens('3f9a1c0e7b5d4a2f8e6c1b0a9d8e7f6a', 'owner-token-000000000001'),
      S3_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      REDIS_URL: 'rediss://:s3cr3t-9c1b@redis:6380',
    });
    expect(c.S3_ACCESS_KEY_ID).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(isPlaceholder('S3RVER')).toBe(false);
    expect(isPlaceholder('MinioAdmin')).toBe(true);
  });
});
