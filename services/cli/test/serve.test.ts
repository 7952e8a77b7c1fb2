// `camflow serve` as a real process: signals handled from the first moment (a worker still
// waiting for Redis stops on SIGTERM instead of ignoring it as PID 1), and a required execution
// provider that is missing (this build has no CUDA) stops start-up with one line.
import { spawn } from 'node:child_process';
import { freePort } from '@camflow/storage';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './run-cli.js';

describe('camflow serve', () => {
  it('a worker waiting for Redis exits 0 on SIGTERM', async () => {
    const port = await freePort(); // nothing listens there
    const child = spawn(process.execPath, [CLI, 'serve', 'worker'], {
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Waiting for Redis shows as connection errors in the log: the moment to send SIGTERM.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('redis connection error')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('camflow worker: SIGTERM during start-up, exiting');
  });

  it.each([
    ['EXECUTION_PROVIDER=cuda!', { EXECUTION_PROVIDER: 'cuda!' }],
    ['REQUIRE_PROVIDER=true', { EXECUTION_PROVIDER: 'cuda', REQUIRE_PROVIDER: 'true' }],
  ])('%s without CUDA: exit 2, one line, no Redis needed', async (_name, env) => {
    const port = await freePort();
    const r = await runCli(['serve', 'worker'], { REDIS_URL: `redis://127.0.0.1:${port}`, ...env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^camflow: EXECUTION_PROVIDER cuda is required but unavailable \(.+\); not starting$/,
      ),
    ]);
    expect(r.stdout).not.toContain('redis');
  });
});
