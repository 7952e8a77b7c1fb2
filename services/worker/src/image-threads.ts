/**
 * How many image threads a worker starts. Node's `availableParallelism()` counts the node's
 * cores, not the pod's share (Node 20's libuv ignores cgroup CPU quotas): a 2-CPU pod on a
 * 64-core node would start 63 threads, each decoding full-resolution images. So: the
 * WORKER_IMAGE_THREADS setting, else the cgroup CPU quota, else the cores; minus one for the
 * engine thread, at least one.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@camflow/config';

/** Where the cgroup filesystem is mounted (tests point it at a folder of their own). */
export interface CpuProbe {
  cgroupRoot?: string;
  cores?: number;
}

/**
 * CPUs the cgroup quota allows (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`), rounded up; undefined without a quota (`max`, -1 or no file).
 */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = read(join(root, 'cpu.max'));
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    return ratio(quota, period);
  }
  const quota = read(join(root, 'cpu', 'cpu.cfs_quota_us')) ?? read(join(root, 'cpu.cfs_quota_us'));
  const period =
    read(join(root, 'cpu', 'cpu.cfs_period_us')) ?? read(join(root, 'cpu.cfs_period_us'));
  return ratio(quota, period);
}

/** CPUs this process may use: the cgroup quota when there is one, never more than the cores. */
export function cpuBudget(probe: CpuProbe = {}): number {
  const cores = probe.cores ?? availableParallelism();
  const limit = cgroupCpuLimit(probe.cgroupRoot);
  return Math.max(1, Math.min(cores, limit ?? cores));
}

/** Image threads for this worker: WORKER_IMAGE_THREADS, else the CPU budget minus one. */
export function imageThreadCount(
  config: Pick<Config, 'WORKER_IMAGE_THREADS'>,
  probe: CpuProbe = {},
): number {
  return config.WORKER_IMAGE_THREADS ?? Math.max(1, cpuBudget(probe) - 1);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (!quota || quota === 'max' || !Number.isFinite(q) || q <= 0) return undefined;
  if (!Number.isFinite(p) || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}
