import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface EmbeddedRedis {
  url: string;
  /** Undefined when an existing Redis was used. */
  process?: ChildProcess;
  close(): Promise<void>;
}

/** Resolves a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export async function redisReachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Starts `redis-server` as a child process on a free port with its own temp dir. `appendonly`
 * turns on AOF (fault tests restart it and expect the queue back).
 */
export async function startRedisServer(
  opts: { port?: number; dir?: string; appendonly?: boolean } = {},
): Promise<EmbeddedRedis> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    throw new RedisUnavailableError(
      'no Redis reachable and no redis-server binary: install it (apt-get install redis-server) or set REDIS_URL',
    );
  }
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'camflow-redis-')));
  const ownDir = opts.dir === undefined;
  await mkdir(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      opts.appendonly ? 'yes' : 'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const started = Date.now();
  while (!(await redisReachable(url, 300))) {
    if (child.exitCode !== null)
      throw new RedisUnavailableError(`redis-server exited with code ${child.exitCode}`);
    if (Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      throw new RedisUnavailableError('redis-server did not start within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    process: child,
    close: async () => {
      // A process killed by a signal has no exit code but a signalCode; it will not exit again.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** REDIS_URL when it answers, else a redis-server child process (ARCHITECTURE.md, embedded defaults). */
export async function resolveRedis(url: string | undefined): Promise<EmbeddedRedis> {
  if (url && (await redisReachable(url))) return { url, close: async () => {} };
  return startRedisServer();
}
