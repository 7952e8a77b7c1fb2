// A small simulation of KEDA's redis-list scaler driving the HPA, and of BullMQ workers taking
// jobs from the lists, second by second. What it models (KEDA 2.x, autoscaling/v2):
//   - every pollingInterval a trigger reads LLEN of its list; the HPA wants
//     ceil(LLEN / listLength) replicas for it (AverageValue target) and takes the largest over
//     the triggers; with every list empty the ScaledObject falls to minReplicaCount;
//   - scale-up: at most the policy's step per period (Percent or Pods), no stabilization;
//     scale-down: the highest wish within the stabilization window, at most the policy's step
//     per period; a removed pod finishes the jobs it holds (graceful shutdown) but takes no more;
//   - a new pod consumes after its start-up time; a pod holds up to WORKER_CONCURRENCY jobs per
//     queue it consumes (one BullMQ Worker per queue), realtime first, and finishes `rate` jobs a
//     second, each at least `latencySeconds` after it took it (fetch, decode, a micro-batch,
//     render, upload); ready pods take jobs in turn (BullMQ workers compete for the same list).
// The active lists count every consumer's jobs: that is how two fleets on one queue scale each
// other.

export type Queue = 'realtime' | 'bulk';
export type ListName = `${Queue}:${'wait' | 'active'}`;

export interface Policy {
  type: 'Percent' | 'Pods';
  value: number;
  periodSeconds: number;
}

export interface FleetSpec {
  name: string;
  queues: Queue[];
  /** Jobs one pod holds per queue (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Jobs one busy pod finishes per second. */
  rate: number;
  /** Shortest time from taking a job to finishing it. */
  latencySeconds: number;
  startupSeconds: number;
  min: number;
  max: number;
  pollingSeconds: number;
  triggers: { list: ListName; target: number }[];
  scaleUp: { windowSeconds: number; policies: Policy[] };
  scaleDown: { windowSeconds: number; policies: Policy[] };
}

interface Pod {
  readyAt: number;
  draining: boolean;
  active: Record<Queue, number>;
  /** Jobs held, by the second they were taken, oldest first. */
  held: Record<Queue, { t: number; n: number }[]>;
  /** Fractional work carried to the next second. */
  credit: number;
}

export interface SimResult {
  /** Replicas (pods, draining ones excluded) per fleet, one entry per second. */
  replicas: Record<string, number[]>;
  /** Length of each wait list per second. */
  wait: Record<Queue, number[]>;
  completed: Record<Queue, number>;
}

/** Arrivals per queue in second `t`. */
export type Arrivals = (t: number) => Partial<Record<Queue, number>>;

export function simulate(fleets: FleetSpec[], arrivals: Arrivals, seconds: number): SimResult {
  const wait: Record<Queue, number> = { realtime: 0, bulk: 0 };
  const completed: Record<Queue, number> = { realtime: 0, bulk: 0 };
  const pods = new Map<string, Pod[]>(fleets.map((f) => [f.name, []]));
  const wishes = new Map<string, { t: number; desired: number }[]>(fleets.map((f) => [f.name, []]));
  const lastChange = new Map<string, { up: number; down: number }>(
    fleets.map((f) => [f.name, { up: -1e9, down: -1e9 }]),
  );
  const result: SimResult = {
    replicas: Object.fromEntries(fleets.map((f) => [f.name, []])),
    wait: { realtime: [], bulk: [] },
    completed,
  };
  const spawn = (f: FleetSpec, t: number): Pod => ({
    readyAt: t + f.startupSeconds,
    draining: false,
    active: { realtime: 0, bulk: 0 },
    held: { realtime: [], bulk: [] },
    credit: 0,
  });
  for (const f of fleets) for (let i = 0; i < f.min; i++) pods.get(f.name)?.push(spawn(f, -1e6));

  let turn = 0;
  for (let t = 0; t < seconds; t++) {
    const a = arrivals(t);
    wait.realtime += a.realtime ?? 0;
    wait.bulk += a.bulk ?? 0;

    // Ready pods take jobs in turn, one job at a time, realtime first.
    const takers = fleets.flatMap((f) =>
      (pods.get(f.name) ?? []).filter((p) => !p.draining && p.readyAt <= t).map((p) => ({ p, f })),
    );
    for (const q of ['realtime', 'bulk'] as Queue[]) {
      const willing = takers.filter(({ f }) => f.queues.includes(q));
      let idle = 0;
      while (wait[q] > 0 && willing.length > 0 && idle < willing.length) {
        const { p, f } = willing[turn++ % willing.length];
        if (p.active[q] < f.concurrency) {
          p.active[q]++;
          const last = p.held[q].at(-1);
          if (last?.t === t) last.n++;
          else p.held[q].push({ t, n: 1 });
          wait[q]--;
          idle = 0;
        } else idle++;
      }
    }

    // KEDA polls; the HPA acts.
    for (const f of fleets) {
      if (t % f.pollingSeconds !== 0) continue;
      const metric = (list: ListName) => {
        const [q, kind] = list.split(':') as [Queue, 'wait' | 'active'];
        if (kind === 'wait') return wait[q];
        let n = 0;
        for (const ps of pods.values()) for (const p of ps) n += p.active[q];
        return n;
      };
      const values = f.triggers.map((tr) => ({ v: metric(tr.list), target: tr.target }));
      let desired = values.every(({ v }) => v === 0)
        ? f.min
        : Math.max(...values.map(({ v, target }) => Math.ceil(v / target)));
      desired = Math.min(f.max, Math.max(f.min, desired));
      const history = wishes.get(f.name) ?? [];
      history.push({ t, desired });
      const live = (pods.get(f.name) ?? []).filter((p) => !p.draining);
      const current = live.length;
      const changed = lastChange.get(f.name) ?? { up: 0, down: 0 };
      if (desired > current) {
        const recent = history.filter((h) => h.t > t - f.scaleUp.windowSeconds);
        const want = Math.min(desired, ...recent.map((h) => h.desired));
        const period = Math.min(...f.scaleUp.policies.map((p) => p.periodSeconds));
        if (want > current && t - changed.up >= period) {
          const step = Math.max(...f.scaleUp.policies.map((p) => allowed(p, current)));
          const target = Math.min(want, current + Math.max(1, step));
          for (let i = current; i < target; i++) pods.get(f.name)?.push(spawn(f, t));
          changed.up = t;
        }
      } else if (desired < current) {
        const recent = history.filter((h) => h.t > t - f.scaleDown.windowSeconds);
        const want = Math.max(desired, ...recent.map((h) => h.desired));
        const period = Math.min(...f.scaleDown.policies.map((p) => p.periodSeconds));
        if (want < current && t - changed.down >= period) {
          const step = Math.max(...f.scaleDown.policies.map((p) => allowed(p, current)));
          const target = Math.max(want, current - Math.max(1, step));
          // Not-ready pods go first, then the newest (the ReplicaSet controller's order).
          const order = [...live].sort((x, y) => y.readyAt - x.readyAt);
          for (const p of order.slice(0, current - target)) p.draining = true;
          changed.down = t;
        }
      }
    }

    // Work, realtime first; drained pods leave once empty.
    for (const f of fleets) {
      const ps = pods.get(f.name) ?? [];
      for (const p of ps) {
        if (p.readyAt > t) continue;
        p.credit += f.rate;
        for (const q of ['realtime', 'bulk'] as Queue[]) {
          const held = p.held[q];
          while (held.length > 0 && held[0].t + f.latencySeconds <= t && p.credit >= 1) {
            const done = Math.min(held[0].n, Math.floor(p.credit));
            held[0].n -= done;
            if (held[0].n === 0) held.shift();
            p.active[q] -= done;
            p.credit -= done;
            completed[q] += done;
          }
        }
        if (p.active.realtime + p.active.bulk === 0) p.credit = Math.min(p.credit, f.rate);
      }
      pods.set(
        f.name,
        ps.filter((p) => !(p.draining && p.active.realtime + p.active.bulk === 0)),
      );
      result.replicas[f.name].push(ps.filter((p) => !p.draining).length);
    }
    result.wait.realtime.push(wait.realtime);
    result.wait.bulk.push(wait.bulk);
  }
  return result;
}

function allowed(p: Policy, current: number): number {
  return p.type === 'Pods' ? p.value : Math.ceil((current * p.value) / 100);
}
