// Image threads sized to the pod, not the node: the cgroup CPU quota (v2 and v1 layouts, in a
// folder laid out like /sys/fs/cgroup), WORKER_IMAGE_THREADS over everything, cores as the cap.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupCpuLimit, cpuBudget, imageThreadCount } from '../src/image-threads.js';

let root: string;
const cgroup = async (name: string, files: Record<string, string>) => {
  const dir = join(root, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), `${text}\n`);
  }
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'camflow-cgroup-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('cgroup CPU quota', () => {
  it('reads cgroup v2 cpu.max, rounding a fraction up', async () => {
    expect(cgroupCpuLimit(await cgroup('v2-two', { 'cpu.max': '200000 100000' }))).toBe(2);
    expect(cgroupCpuLimit(await cgroup('v2-half', { 'cpu.max': '150000 100000' }))).toBe(2);
    expect(cgroupCpuLimit(await cgroup('v2-tiny', { 'cpu.max': '10000 100000' }))).toBe(1);
    expect(cgroupCpuLimit(await cgroup('v2-none', { 'cpu.max': 'max 100000' }))).toBeUndefined();
  });

  it('reads cgroup v1 cfs quota and period; -1 is no quota', async () => {
    const v1 = await cgroup('v1', {
      'cpu/cpu.cfs_quota_us': '400000',
      'cpu/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuLimit(v1)).toBe(4);
    const none = await cgroup('v1-none', {
      'cpu/cpu.cfs_quota_us': '-1',
      'cpu/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuLimit(none)).toBeUndefined();
    expect(cgroupCpuLimit(join(root, 'missing'))).toBeUndefined();
  });
});

describe('imageThreadCount', () => {
  it('a 2-CPU pod on a 64-core node gets 1 image thread, not 63', async () => {
    const pod = await cgroup('pod-2', { 'cpu.max': '200000 100000' });
    expect(imageThreadCount({}, { cgroupRoot: pod, cores: 64 })).toBe(1);
    expect(cpuBudget({ cgroupRoot: pod, cores: 64 })).toBe(2);
  });

  it('no quota: the cores minus one for the engine thread, at least one', async () => {
    const free = await cgroup('free', { 'cpu.max': 'max 100000' });
    expect(imageThreadCount({}, { cgroupRoot: free, cores: 8 })).toBe(7);
    expect(imageThreadCount({}, { cgroupRoot: free, cores: 1 })).toBe(1);
  });

  it('a quota above the cores is capped by the cores', async () => {
    const big = await cgroup('big', { 'cpu.max': '1600000 100000' });
    expect(imageThreadCount({}, { cgroupRoot: big, cores: 4 })).toBe(3);
  });

  it('WORKER_IMAGE_THREADS wins', async () => {
    const pod = await cgroup('pod-setting', { 'cpu.max': '200000 100000' });
    expect(imageThreadCount({ WORKER_IMAGE_THREADS: 3 }, { cgroupRoot: pod, cores: 64 })).toBe(3);
  });
});
