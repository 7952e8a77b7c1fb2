/**
 * Finite-difference checks of the compiled gradient subgraph.
 *
 * A case is a small ONNX graph: input `x` [N, ...] -> Identity -> `h` (the hooked layer) -> the
 * op(s) under test -> output `y`. For a random weight vector w_n per image, F = sum_n w_n . y_n.
 * The gradient dF/dh comes from the public API (a backward hook on `h`, `run` with weight
 * targets); it must match central differences of F computed with plain forward runs.
 *
 * Since h = x, perturbing x perturbs h. Tensors that hang off x without going through h are
 * constants for the gradient; a case that wants such a tensor (a skip connection from below the
 * hook) must make it numerically independent of x (see `Net.belowHook`), or the differences
 * would also see that path.
 *
 * All perturbed copies of the images go through ONNX Runtime as one batch: every graph here
 * treats images independently, so each copy's output is exactly what a separate run would give.
 */
import { Engine, type TensorView } from '@camflow/engine';
import {
  type AttrValue,
  encodeModel,
  floatTensor,
  int64Tensor,
  makeAttributes,
  makeModel,
  type NodeProto,
  onnx,
  type TensorProto,
  valueInfo,
} from '@camflow/onnx';
import { it } from 'vitest';

/** A seeded uniform generator in [0, 1) (mulberry32). */
export type Rng = () => number;

export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws the whole input (all images), given its element count. */
export type Sampler = (rng: Rng, count: number) => Float32Array;

/** Uniform in +-[lo, hi]: away from 0, where Relu-like ops have their kink. */
export function awayFromZero(lo = 0.1, hi = 1): Sampler {
  return (rng, count) =>
    Float32Array.from({ length: count }, () => {
      const m = lo + (hi - lo) * rng();
      return rng() < 0.5 ? -m : m;
    });
}

/** Uniform in [lo, hi]. */
export function uniform(lo: number, hi: number): Sampler {
  return (rng, count) => Float32Array.from({ length: count }, () => lo + (hi - lo) * rng());
}

/** Uniform in [lo, hi], at least `margin` away from each of `points` (kinks, clip bounds). */
export function avoiding(lo: number, hi: number, points: number[], margin = 0.05): Sampler {
  return (rng, count) =>
    Float32Array.from({ length: count }, () => {
      for (;;) {
        const v = lo + (hi - lo) * rng();
        if (points.every((p) => Math.abs(v - p) >= margin)) return v;
      }
    });
}

/**
 * Distinct values `spacing` apart, shuffled: no ties and no near-ties, so max-type ops keep their
 * argmax under a perturbation smaller than spacing / 2.
 */
export function distinct(spacing = 0.05): Sampler {
  return (rng, count) => {
    const v = Array.from({ length: count }, (_, i) => (i - count / 2) * spacing);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [v[i], v[j]] = [v[j], v[i]];
    }
    return Float32Array.from(v);
  };
}

/** Builds the nodes and constants of a case; the hooked tensor is 'h'. */
export class Net {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly rng: Rng;
  private count = 0;

  constructor(seed = 1) {
    this.rng = makeRng(seed);
  }

  private name(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** Adds a node; returns its outputs. */
  opN(
    opType: string,
    inputs: string[],
    nOutputs: number,
    attrs: Record<string, AttrValue | undefined> = {},
    domain?: string,
  ): string[] {
    const output = Array.from({ length: nOutputs }, () => this.name(opType.toLowerCase()));
    this.nodes.push({
      opType,
      domain,
      name: this.name(`${opType}_node`),
      input: inputs,
      output,
      attribute: makeAttributes(attrs),
    });
    return output;
  }

  /** Renames the last node added (for error messages that name it). */
  nameLast(name: string): void {
    this.nodes[this.nodes.length - 1].name = name;
  }

  /** Adds a single-output node; returns its output. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0];
  }

  /** A float initializer with the given values. */
  floats(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const name = this.name('const');
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  /** An int64 initializer. */
  ints(values: number[], dims: number[] = [values.length]): string {
    const name = this.name('ints');
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }

  /** A float initializer with seeded values uniform in +-scale. */
  rand(dims: number[], scale = 1, offset = 0): string {
    const n = dims.reduce((a, d) => a * d, 1);
    return this.floats(
      Array.from({ length: n }, () => offset + scale * (2 * this.rng() - 1)),
      dims,
    );
  }

  /** A float `Constant` node (rather than an initializer). */
  constant(values: number[], dims: number[] = [values.length]): string {
    const out = this.op('Constant', []);
    const node = this.nodes[this.nodes.length - 1];
    node.attribute = [
      {
        name: 'value',
        type: onnx.AttributeProto.AttributeType.TENSOR,
        t: floatTensor('', dims, values),
      },
    ];
    return out;
  }

  /**
   * A tensor computed from x without going through h (a skip connection from below the hook),
   * with random values that do not depend on x: 0 * x[:, 0] reshaped to [N, 1, ...], plus a
   * constant of shape [1, ...shape]. The gradient must treat it as a constant; so does the
   * finite difference. Only opset-stable ops (Flatten, Gather, Mul, Reshape, Add).
   */
  belowHook(shape: number[]): string {
    const flat = this.op('Flatten', ['x'], { axis: 1 });
    const first = this.op('Gather', [flat, this.ints([0], [])], { axis: 1 });
    const zero = this.op('Mul', [first, this.floats([0], [])]);
    const zeros = this.op('Reshape', [zero, this.ints([-1, ...shape.map(() => 1)])]);
    return this.op('Add', [zeros, this.rand([1, ...shape])]);
  }

  /** Names the tensor `t` 'y', the graph output. */
  output(t: string): void {
    for (const n of this.nodes) {
      n.output = (n.output ?? []).map((o) => (o === t ? 'y' : o));
      n.input = (n.input ?? []).map((i) => (i === t ? 'y' : i));
    }
  }
}

export interface GradCase {
  name: string;
  /** Shape of x and h, batch first (the model's batch dimension is symbolic). */
  shape: number[];
  /** Builds the graph after the hook: reads 'h'; `net.output(t)` names the result. */
  build: (net: Net) => void;
  opset?: number;
  /** Opset imports besides the default domain. */
  domains?: { domain: string; version: number }[];
  seed?: number;
  /** Default: awayFromZero(). */
  sample?: Sampler;
  /** Perturbation. Default 5e-3. */
  eps?: number;
  /** Bound on ||g - fd|| / ||fd||. Default 2e-2. */
  tol?: number;
}

export interface BuiltCase {
  bytes: Uint8Array;
  /** Op types downstream of h (what the gradient goes through). */
  opTypes: string[];
}

/** Builds a case's model: x -> Identity -> h -> ... -> y. */
export function buildCase(c: GradCase): BuiltCase {
  const net = new Net(c.seed ?? 1);
  net.nodes.push({ opType: 'Identity', name: 'hook', input: ['x'], output: ['h'] });
  c.build(net);
  if (!net.nodes.some((n) => (n.output ?? []).includes('y'))) {
    throw new Error(`case "${c.name}" has no output: call net.output(t)`);
  }
  const model = makeModel({
    inputs: [valueInfo('x', ['N', ...c.shape.slice(1)])],
    outputs: [valueInfo('y', undefined)],
    nodes: net.nodes,
    initializers: net.initializers,
    opset: c.opset ?? 17,
  });
  for (const d of c.domains ?? []) model.opsetImport.push(d);
  // ONNX ties opset versions to IR versions (opset 19+ came with IR 9).
  if ((c.opset ?? 17) >= 19) model.irVersion = 10;
  return { bytes: encodeModel(model), opTypes: opsAfterHook(net.nodes) };
}

function opsAfterHook(nodes: NodeProto[]): string[] {
  const reached = new Set(['h']);
  const ops = new Set<string>();
  // The nodes are appended in topological order.
  for (const n of nodes) {
    if (n.name === 'hook') continue;
    if ((n.input ?? []).some((i) => reached.has(i))) {
      ops.add(n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? ''));
      for (const o of n.output ?? []) reached.add(o);
    }
  }
  return [...ops];
}

export interface GradCheck {
  opTypes: string[];
  dims: number[];
  /** The compiled gradient, [N, ...]. */
  grad: Float32Array;
  /** Central differences, same layout. */
  fd: Float64Array;
  /** ||grad - fd|| / ||fd||. */
  relErr: number;
  /** Elements outside the elementwise bound, with the reason. */
  bad: string[];
}

/** Runs one case: the hooked gradient against central finite differences. */
export async function checkGradient(c: GradCase): Promise<GradCheck> {
  const { bytes, opTypes } = buildCase(c);
  const rng = makeRng((c.seed ?? 1) * 7919 + 17);
  const shape = c.shape;
  const batch = shape[0];
  const per = shape.slice(1).reduce((a, d) => a * d, 1);
  const x = (c.sample ?? awayFromZero())(rng, batch * per);
  const eps = c.eps ?? 5e-3;
  const copies = batch * (2 * per + 1);
  const engine = Engine.load(bytes, { maxBatch: copies, intraOpThreads: 1 });
  try {
    // The compiled gradient, with one weight vector per image.
    let grad: TensorView | undefined;
    engine.registerBackwardHook('h', (e) => {
      grad = e.tensor;
    });
    const plain = await engine.predict({ data: x, dims: shape });
    const k = plain.numClasses;
    const weights = Array.from({ length: batch }, () =>
      Float32Array.from({ length: k }, () => 2 * rng() - 1),
    );
    const ran = await engine.run({ data: x, dims: shape }, { target: weights });
    if (!grad) throw new Error('the backward hook did not fire');
    const g = grad;
    if (g.dims.join() !== shape.join()) {
      throw new Error(`gradient dims [${g.dims}] differ from h's [${shape}]`);
    }
    // The compiled graph's forward pass must agree with the plain one.
    const fwdErr = maxAbsDiff(ran.scores, plain.scores);
    if (fwdErr > 1e-5 * (1 + maxAbs(plain.scores))) {
      throw new Error(`scores of the compiled graph differ from the plain model's by ${fwdErr}`);
    }

    // Every image: the base copy, then +eps and -eps copies for each element.
    const data = new Float32Array(copies * per);
    const step = new Float64Array(batch * per);
    for (let n = 0; n < batch; n++) {
      const base = x.subarray(n * per, (n + 1) * per);
      const at = n * (2 * per + 1);
      data.set(base, at * per);
      for (let j = 0; j < per; j++) {
        const plus = (at + 1 + 2 * j) * per;
        const minus = plus + per;
        data.set(base, plus);
        data.set(base, minus);
        data[plus + j] = base[j] + eps;
        data[minus + j] = base[j] - eps;
        // The step actually taken in float32.
        step[n * per + j] = data[plus + j] - data[minus + j];
      }
    }
    const out = await engine.predict({ data, dims: [copies, ...shape.slice(1)] });
    const scores = out.scores;
    const score = (copy: number, n: number) => {
      let s = 0;
      let mag = 0;
      for (let i = 0; i < k; i++) {
        const t = weights[n][i] * scores[copy * k + i];
        s += t;
        mag += Math.abs(t);
      }
      return { s, mag };
    };

    const fd = new Float64Array(batch * per);
    const oneSided: [number, number][] = [];
    const noise = new Float64Array(batch * per);
    for (let n = 0; n < batch; n++) {
      const at = n * (2 * per + 1);
      const f0 = score(at, n).s;
      for (let j = 0; j < per; j++) {
        const i = n * per + j;
        const fp = score(at + 1 + 2 * j, n);
        const fm = score(at + 2 + 2 * j, n).s;
        fd[i] = (fp.s - fm) / step[i];
        oneSided.push([(2 * (fp.s - f0)) / step[i], (2 * (f0 - fm)) / step[i]]);
        // float32 rounding in the forward pass (a few ulps of the terms of F), over the step.
        noise[i] = (16 * 2 ** -24 * fp.mag) / step[i];
      }
    }

    let num = 0;
    let den = 0;
    let top = 0;
    for (let i = 0; i < fd.length; i++) {
      num += (g.data[i] - fd[i]) ** 2;
      den += fd[i] ** 2;
      top = Math.max(top, Math.abs(fd[i]));
    }
    const relErr = Math.sqrt(num) / Math.sqrt(den);
    const bad: string[] = [];
    for (let i = 0; i < fd.length; i++) {
      const allowed = 5e-2 * Math.abs(fd[i]) + 5e-3 * top + 4 * noise[i];
      const err = Math.abs(g.data[i] - fd[i]);
      if (!(err <= allowed)) {
        const [fwd, bwd] = oneSided[i];
        const kink =
          Math.abs(fwd - bwd) > 0.1 * Math.max(Math.abs(fwd), Math.abs(bwd)) + 4 * noise[i]
            ? ' (one-sided differences disagree: a kink within eps)'
            : '';
        bad.push(
          `image ${Math.floor(i / per)} element ${i % per}: grad ${g.data[i]}, fd ${fd[i]}${kink}`,
        );
      }
    }
    return { opTypes, dims: g.dims, grad: g.data, fd, relErr, bad };
  } finally {
    await engine.close();
  }
}

/** Checks a case and throws a readable error when the gradient is off. */
export async function expectGradient(c: GradCase): Promise<GradCheck> {
  const r = await checkGradient(c);
  const tol = c.tol ?? 2e-2;
  const fdNorm = Math.sqrt(r.fd.reduce((a, v) => a + v * v, 0));
  if (!(fdNorm > 1e-3)) {
    throw new Error(`case "${c.name}": the gradient is ~0 (||fd|| = ${fdNorm}); it proves nothing`);
  }
  if (!(r.relErr < tol) || r.bad.length > 0) {
    throw new Error(
      `case "${c.name}": ||g - fd|| / ||fd|| = ${r.relErr.toExponential(3)} (tol ${tol}); ` +
        `${r.bad.length} element(s) off:\n  ${r.bad.slice(0, 8).join('\n  ')}`,
    );
  }
  return r;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** One test per case. */
export function testCases(cases: GradCase[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      await expectGradient(c);
    });
  }
}
