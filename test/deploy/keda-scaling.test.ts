// The KEDA ScaledObjects of infra/k8s, read from the files, driven through a simulation of the
// KEDA/HPA formula (keda-sim.ts): the base's single fleet follows a bulk run up and back down;
// in the gpu overlay each fleet owns a queue, so neither scales on the other's jobs and both
// settle. The configuration before that split (both fleets on both queues, both counting all
// four lists) is simulated too: it runs both fleets up to their maximums on a load that one GPU
// worker handles.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type Arrivals, type FleetSpec, type ListName, type Queue, simulate } from './keda-sim.js';

const k8s = new URL('../../infra/k8s/', import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: manifests are plain YAML objects
type Doc = any;
const load = (path: string): Doc[] =>
  parseAllDocuments(readFileSync(new URL(path, k8s), 'utf8')).map((d) => d.toJS());
const find = (docs: Doc[], kind: string, name: string): Doc => {
  const d = docs.find((x) => x?.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`${kind}/${name} not found`);
  return d;
};

/** A container's env value, from its env list, else the ConfigMap. */
function envOf(deployment: Doc, config: Record<string, string>, name: string, patch?: Doc) {
  const envs = [
    ...(patch?.spec.template.spec.containers[0].env ?? []),
    ...(deployment.spec.template.spec.containers[0].env ?? []),
  ];
  return envs.find((e: Doc) => e.name === name)?.value ?? config[name];
}

/** HPA defaults when a ScaledObject gives no behavior (autoscaling/v2). */
const DEFAULT_UP = {
  stabilizationWindowSeconds: 0,
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};
const DEFAULT_DOWN = {
  stabilizationWindowSeconds: 300,
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

function fleet(
  so: Doc,
  queues: Queue[],
  concurrency: number,
  perf: { rate: number; latencySeconds: number; startupSeconds: number },
  triggers = so.spec.triggers,
): FleetSpec {
  const behavior = so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior ?? {};
  const up = { ...DEFAULT_UP, ...behavior.scaleUp };
  const down = { ...DEFAULT_DOWN, ...behavior.scaleDown };
  return {
    name: so.metadata.name,
    queues,
    concurrency,
    ...perf,
    min: so.spec.minReplicaCount ?? 0,
    max: so.spec.maxReplicaCount ?? 100,
    pollingSeconds: so.spec.pollingInterval ?? 30,
    triggers: triggers.map((tr: Doc) => {
      const m = /^bull:camflow-(realtime|bulk):(wait|active)$/.exec(tr.metadata.listName);
      if (!m) throw new Error(`unexpected list ${tr.metadata.listName}`);
      return { list: `${m[1]}:${m[2]}` as ListName, target: Number(tr.metadata.listLength) };
    }),
    scaleUp: { windowSeconds: up.stabilizationWindowSeconds, policies: up.policies },
    scaleDown: { windowSeconds: down.stabilizationWindowSeconds, policies: down.policies },
  };
}

const queuesOf = (v: string | undefined): Queue[] =>
  (v ?? 'realtime,bulk').split(',').map((s) => s.trim() as Queue);

// Per pod, roughly camflow's on the reference model: a 2-CPU worker ~5 images/s, a GPU worker
// ~60; a job takes at least 2 s from fetch to upload; start-up includes pulling the image and
// loading the model.
const CPU = { rate: 5, latencySeconds: 2, startupSeconds: 30 };
const GPU = { rate: 60, latencySeconds: 2, startupSeconds: 60 };

const config = find(load('base/config.yaml'), 'ConfigMap', 'camflow-config').data;
const baseWorker = find(load('base/worker.yaml'), 'Deployment', 'camflow-worker');
const baseSo = find(load('base/keda.yaml'), 'ScaledObject', 'camflow-worker');
const gpuWorker = find(load('gpu/worker-gpu.yaml'), 'Deployment', 'camflow-worker-gpu');
const gpuSo = find(load('gpu/keda-gpu.yaml'), 'ScaledObject', 'camflow-worker-gpu');
const cpuPatch = find(load('gpu/patch-worker-realtime.yaml'), 'Deployment', 'camflow-worker');
const cpuSoPatch = find(load('gpu/patch-keda-realtime.yaml'), 'ScaledObject', 'camflow-worker');

const baseFleet = fleet(
  baseSo,
  queuesOf(envOf(baseWorker, config, 'WORKER_QUEUES')),
  Number(envOf(baseWorker, config, 'WORKER_CONCURRENCY')),
  CPU,
);
/** The gpu overlay as kustomize renders it: the patches replace env and triggers. */
const overlay = {
  cpu: fleet(
    baseSo,
    queuesOf(envOf(baseWorker, config, 'WORKER_QUEUES', cpuPatch)),
    Number(envOf(baseWorker, config, 'WORKER_CONCURRENCY', cpuPatch)),
    CPU,
    cpuSoPatch.spec.triggers,
  ),
  gpu: fleet(
    gpuSo,
    queuesOf(envOf(gpuWorker, config, 'WORKER_QUEUES')),
    Number(envOf(gpuWorker, config, 'WORKER_CONCURRENCY')),
    GPU,
  ),
};
/** Before the split: both fleets on both queues, each counting all four lists. */
const shared = {
  cpu: { ...baseFleet, min: 0 },
  gpu: {
    ...overlay.gpu,
    queues: ['realtime', 'bulk'] as Queue[],
    min: 1,
    triggers: [
      { list: 'realtime:wait', target: 32 },
      { list: 'bulk:wait', target: 256 },
      { list: 'realtime:active', target: 64 },
      { list: 'bulk:active', target: 64 },
    ] as FleetSpec['triggers'],
  },
};

const max = (xs: number[]) => Math.max(...xs);
const tail = (xs: number[], n: number) => xs.slice(-n);

/** Bucket events all along (one every 4 s) and a steady bulk stream that one GPU worker handles. */
const trickle: Arrivals = (t) => ({ realtime: t % 4 === 0 ? 1 : 0, bulk: 20 });
/** Bucket events, and a 100,000-image bulk run queued at once after a minute. */
const bulkRun: Arrivals = (t) => ({ realtime: t % 4 === 0 ? 1 : 0, bulk: t === 60 ? 100_000 : 0 });

describe('the manifests say what the simulation assumes', () => {
  it('gpu overlay: CPU workers own realtime, GPU workers own bulk, each ScaledObject counts only its own lists', () => {
    expect(overlay.cpu.queues).toEqual(['realtime']);
    expect(overlay.gpu.queues).toEqual(['bulk']);
    for (const f of [overlay.cpu, overlay.gpu]) {
      for (const tr of f.triggers) expect(f.queues).toContain(tr.list.split(':')[0]);
    }
    expect(baseFleet.queues).toEqual(['realtime', 'bulk']);
    expect(baseFleet.triggers.map((t) => t.list).sort()).toEqual(
      ['bulk:active', 'bulk:wait', 'realtime:active', 'realtime:wait'].sort(),
    );
  });
});

describe('KEDA formula, simulated', () => {
  it("shared queues (before): the GPU worker's active jobs keep CPU workers that the load does not need", () => {
    // 20 images/s: one GPU worker's job; it holds ~60 jobs, which ask for ceil(60 / 8) CPU workers.
    const r = simulate([shared.cpu, shared.gpu], trickle, 3600);
    const cpu = tail(r.replicas['camflow-worker'], 1800);
    console.log(
      `shared queues, 20 img/s: CPU workers ${Math.min(...cpu)}-${max(cpu)}, GPU ${max(tail(r.replicas['camflow-worker-gpu'], 1800))}`,
    );
    expect(Math.min(...cpu)).toBeGreaterThanOrEqual(7);
  });

  it('shared queues (before): through a bulk run both fleets sit at their maximums', () => {
    const r = simulate([shared.cpu, shared.gpu], bulkRun, 3 * 3600);
    const busy = r.wait.bulk.map((w, t) => (w > 0 && t > 300 ? t : -1)).filter((t) => t >= 0);
    expect(busy.length).toBeGreaterThan(60);
    for (const t of busy) {
      expect(r.replicas['camflow-worker'][t]).toBe(shared.cpu.max);
      expect(r.replicas['camflow-worker-gpu'][t]).toBe(shared.gpu.max);
    }
  });

  it('gpu overlay: the same load settles at one GPU worker and one CPU worker', () => {
    const r = simulate([overlay.cpu, overlay.gpu], trickle, 3600);
    expect(max(r.replicas['camflow-worker'])).toBe(1);
    expect(new Set(tail(r.replicas['camflow-worker-gpu'], 1800))).toEqual(new Set([1]));
    // And it keeps up: nothing piles up in either wait list.
    expect(max(tail(r.wait.bulk, 1800))).toBeLessThan(64);
    expect(max(r.wait.realtime)).toBeLessThanOrEqual(1);
  });

  it('gpu overlay: a bulk run scales the GPU fleet to its maximum and back to zero; the CPU fleet stays at one', () => {
    const r = simulate([overlay.cpu, overlay.gpu], bulkRun, 3 * 3600);
    const gpu = r.replicas['camflow-worker-gpu'];
    const drained = r.wait.bulk.findLastIndex((w) => w > 0);
    const idle = gpu.findIndex((n, t) => t > drained && n === 0);
    console.log(
      `gpu overlay, 100,000-image run: bulk list empty after ${drained} s, GPU workers ${max(gpu)} at most, 0 again after ${idle} s; CPU workers ${max(r.replicas['camflow-worker'])} at most`,
    );
    expect(max(gpu)).toBe(overlay.gpu.max);
    expect(r.completed.bulk).toBe(100_000);
    expect(tail(gpu, 600).every((n) => n === overlay.gpu.min)).toBe(true);
    expect(max(r.replicas['camflow-worker'])).toBe(1);
    // Bucket events never queue behind the bulk run.
    expect(max(r.wait.realtime)).toBeLessThanOrEqual(1);
  });

  it('base: one fleet follows a bulk run up and back down to its one warm worker', () => {
    const r = simulate([baseFleet], bulkRun, 4 * 3600);
    const cpu = r.replicas['camflow-worker'];
    expect(max(cpu)).toBe(baseFleet.max);
    expect(r.completed.bulk).toBe(100_000);
    expect(tail(cpu, 600).every((n) => n === baseFleet.min)).toBe(true);
  });
});
