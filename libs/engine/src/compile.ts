import {
  type CamView,
  cloneModel,
  DataType,
  encodeModel,
  GraphBuilder,
  GraphIndex,
  type ModelProto,
  untypedOutput,
  valueInfo,
} from '@camflow/onnx';
import type { RuleContext } from './autodiff/context.js';
import { differentiate } from './autodiff/differentiate.js';
import { appendCam, type CamMethod, canonical, needsGradient } from './cam-graph.js';
import { CompileError } from './errors.js';
import { constantShape, constantValues, type PreparedModel } from './prepared.js';
import type { ProbeResult } from './probe.js';
import { replicateHead } from './replicate.js';

/** Which score is differentiated: the model's output as exported, or the input of its final Softmax/Sigmoid. */
export type ScoreMode = 'output' | 'logit';

/** What one compiled graph computes, besides the model's outputs. */
export interface CompileSpec {
  /** Tensors whose values are exposed (forward hooks, the CAM layer). */
  activations: string[];
  /** Tensors whose gradients are exposed (backward hooks). */
  gradients: string[];
  /** The CAM: the layer's tensor, how it becomes [N, C, h, w], and the method. */
  cam?: { tensor: string; method: CamMethod; view: CamView };
  /** 'index': int64 [N] class per image, -1 = predicted; 'weights': float [N, K]. */
  targetMode: 'index' | 'weights';
  score: ScoreMode;
  layerName: string;
  /**
   * Targets per image (default 1). With K > 1 the target input is int64 [N, K] (class, or -r for
   * the r-th highest score) and the head below the CAM layer is recomputed on K copies of each
   * image, so one backward pass gives the K gradients (CAM only, no hooks).
   */
  targetCount?: number;
}

export const TARGET_INPUT = 'camflow_target';
export const CAM_OUTPUT = 'camflow_cam';
export const TARGET_OUTPUT = 'camflow_target_index';
/** The layer's activations as [N, C, h, w] (what EigenCAM reads). */
export const CAM_ACTIVATIONS = 'camflow_cam_activations';
/** Many targets: the score recomputed by the copied head, and the score it must equal. */
export const REPLICA_SCORES = 'camflow_replica_scores';
export const CHECKED_SCORES = 'camflow_checked_scores';

export interface CompiledGraph {
  bytes: Uint8Array;
  scores: string;
  /** tensor -> graph output carrying its gradient */
  gradients: Map<string, string>;
  cam?: string;
  target?: string;
  numClasses: number;
}

const ACTIVATIONS = new Set(['Softmax', 'Sigmoid', 'LogSoftmax']);

/** Every tensor the compiler needs facts about: inputs and outputs of nodes downstream of the hooks. */
export function tensorsToProbe(p: PreparedModel, from: string[]): string[] {
  const down = p.index.descendants(from);
  const out = new Set<string>([...from, p.outputName]);
  for (const n of p.index.nodes) {
    if (!(n.input ?? []).some((i) => i && down.has(i))) continue;
    for (const t of [...(n.input ?? []), ...(n.output ?? [])]) {
      if (t && !p.index.initializers.has(t)) out.add(t);
    }
  }
  return [...out];
}

/**
 * Compiles hooks into the graph: exposed activations become outputs; a gradient subgraph from
 * the target score back to the hooked tensors is appended (nothing below them); the CAM
 * arithmetic is appended when asked. The user's model is never modified.
 */
export function compileGraph(
  p: PreparedModel,
  probe: ProbeResult,
  spec: CompileSpec,
): CompiledGraph {
  if (p.opset < 9) {
    // Where, OneHot, Expand and ConstantOfShape, which the backward graph needs, start at 9.
    throw new CompileError(
      `the model uses opset ${p.opset}; gradients need opset >= 9 (re-export it)`,
    );
  }
  const model: ModelProto = cloneModel(p.model);
  const graph = model.graph as NonNullable<ModelProto['graph']>;
  const index = new GraphIndex(graph);
  const b = new GraphBuilder(graph, p.opset);
  const facts = (t: string) => {
    const f = probe.tensors.get(t);
    if (f) return f;
    const s = constantShape(p, t);
    if (s) return { shape: s, type: 'float32' };
    throw new CompileError(`no shape known for tensor "${t}"`);
  };
  const outShape = facts(p.outputName).shape;
  const numClasses = outShape.slice(1).reduce((a, d) => a * d, 1);
  if (numClasses <= 0) throw new CompileError('the model output has a dynamic class dimension');

  const addOutput = (name: string) => {
    if (!(graph.output ?? []).some((o) => o.name === name)) {
      graph.output = [...(graph.output ?? []), untypedOutput(name)];
    }
  };
  for (const t of spec.activations) addOutput(t);

  if (spec.cam && !needsGradient(spec.cam.method)) {
    const named = b.node('Identity', [canonical(b, spec.cam.tensor, spec.cam.view)]);
    renameOutput(graph, named, CAM_ACTIVATIONS);
    addOutput(CAM_ACTIVATIONS);
  }
  const wantGrad = [
    ...new Set([
      ...spec.gradients,
      ...(spec.cam && needsGradient(spec.cam.method) ? [spec.cam.tensor] : []),
    ]),
  ];
  const result: CompiledGraph = {
    bytes: new Uint8Array(),
    scores: p.outputName,
    gradients: new Map(),
    numClasses,
  };
  if ((spec.targetCount ?? 1) > 1) {
    if (!spec.cam || !needsGradient(spec.cam.method) || wantGrad.length !== 1) {
      throw new CompileError('several targets need a gradient CAM and no other hooks');
    }
    compileTargets(b, p, probe, spec, numClasses, spec.cam);
    for (const o of [TARGET_OUTPUT, CAM_OUTPUT, REPLICA_SCORES, CHECKED_SCORES]) addOutput(o);
    result.cam = CAM_OUTPUT;
    result.target = TARGET_OUTPUT;
  } else if (wantGrad.length > 0) {
    const { dy, y, target } = seedGradient(b, p, spec, numClasses);
    result.target = target;
    if (target) addOutput(target);
    const ctx: RuleContext = {
      b,
      opset: p.opset,
      shape: (t) => facts(t).shape,
      // Constants, and values the probe read from shape arithmetic (slice bounds of attention).
      constant: (t) => constantValues(p, t) ?? probe.tensors.get(t)?.values,
    };
    const grads = differentiate(index, ctx, {
      y,
      dy,
      wrt: wantGrad,
      differentiable: (t) => probe.tensors.get(t)?.type === 'float32',
      layerName: spec.layerName,
    });
    for (const t of wantGrad) {
      const g = grads.get(t);
      if (!g) throw new CompileError(`layer "${spec.layerName}" has no path to the model's output`);
      result.gradients.set(t, g);
      if (spec.gradients.includes(t)) addOutput(g);
    }
    if (spec.cam && needsGradient(spec.cam.method)) {
      const { view } = spec.cam;
      const cam = appendCam(
        b,
        spec.cam.method,
        canonical(b, spec.cam.tensor, view),
        canonical(b, grads.get(spec.cam.tensor) as string, view),
        4,
      );
      const named = b.node('Identity', [cam]);
      renameOutput(graph, named, CAM_OUTPUT);
      result.cam = CAM_OUTPUT;
      addOutput(CAM_OUTPUT);
    }
  }
  result.bytes = encodeModel(model);
  return result;
}

/** The differentiated tensor: the output, or the input of a final Softmax/Sigmoid. */
function scoreTensor(p: PreparedModel, score: ScoreMode): string {
  if (score !== 'logit') return p.outputName;
  const producer = p.index.producer.get(p.outputName);
  if (!producer || !ACTIVATIONS.has(producer.opType ?? '')) {
    throw new CompileError(
      `--score logit needs a model whose output comes from Softmax, Sigmoid or LogSoftmax (it comes from ${producer?.opType ?? 'an input'})`,
    );
  }
  return (producer.input ?? [])[0];
}

/**
 * K targets per image in one backward pass: the head is copied onto K repeats of each image
 * (see replicateHead), seeded with one class per copy, differentiated once. The copied head's
 * scores are exposed next to the model's so the caller can check the copy computes the same
 * thing (an export that bakes the batch size into a reshape would not).
 */
function compileTargets(
  b: GraphBuilder,
  p: PreparedModel,
  probe: ProbeResult,
  spec: CompileSpec,
  numClasses: number,
  cam: NonNullable<CompileSpec['cam']>,
): void {
  const graph = b.graph;
  const k = spec.targetCount as number;
  const y = scoreTensor(p, spec.score);
  graph.input = [...(graph.input ?? []), valueInfo(TARGET_INPUT, ['N', k], DataType.INT64)];
  // Negative targets rank the scores: -1 the highest, -2 the next, ...
  const flat = b.reshape(p.outputName, [0, -1]);
  const depth = Math.min(k, numClasses);
  const order =
    p.opset >= 10
      ? b.nodeN('TopK', [flat, b.ints([depth])], 2, { axis: 1 })[1]
      : b.nodeN('TopK', [flat], 2, { axis: 1, k: depth })[1];
  const negative = b.node('Less', [TARGET_INPUT, b.ints([0], [])]);
  const rank = b.node('Where', [
    negative,
    b.node('Sub', [b.node('Neg', [TARGET_INPUT]), b.ints([1], [])]),
    b.ints([0], []),
  ]);
  const chosen = b.node('Where', [
    negative,
    b.node('GatherElements', [order, rank], { axis: 1 }),
    TARGET_INPUT,
  ]);
  renameOutput(graph, b.node('Identity', [chosen]), TARGET_OUTPUT);

  const facts = (t: string) => probe.tensors.get(t);
  const replica = replicateHead(b, new GraphIndex(graph), facts, {
    from: cam.tensor,
    y,
    copies: k,
  });
  const orig = (t: string) => replica.original.get(t) ?? t;
  renameOutput(graph, b.node('Identity', [replica.y]), REPLICA_SCORES);
  renameOutput(graph, b.node('Identity', [y]), CHECKED_SCORES);
  const onehot = b.node(
    'OneHot',
    [b.reshape(TARGET_OUTPUT, [-1]), b.ints([numClasses], []), b.floats([0, 1])],
    { axis: -1 },
  );
  const dy = b.node('Reshape', [onehot, b.node('Shape', [replica.y])]);
  const ctx: RuleContext = {
    b,
    opset: p.opset,
    shape: (t) => {
      const f =
        facts(orig(t)) ?? (constantShape(p, t) && { shape: constantShape(p, t) as number[] });
      if (!f) throw new CompileError(`no shape known for tensor "${t}"`);
      return f.shape;
    },
    constant: (t) => constantValues(p, t) ?? facts(orig(t))?.values,
  };
  const grads = differentiate(new GraphIndex(graph), ctx, {
    y: replica.y,
    dy,
    wrt: [replica.from],
    differentiable: (t) => facts(orig(t))?.type === 'float32',
    layerName: spec.layerName,
  });
  const g = grads.get(replica.from);
  if (!g) throw new CompileError(`layer "${spec.layerName}" has no path to the model's output`);
  const map = appendCam(
    b,
    cam.method,
    canonical(b, replica.from, cam.view),
    canonical(b, g, cam.view),
    4,
  );
  renameOutput(graph, b.node('Identity', [map]), CAM_OUTPUT);
}

/** Builds dY at the score tensor from the target input. */
function seedGradient(b: GraphBuilder, p: PreparedModel, spec: CompileSpec, numClasses: number) {
  const graph = b.graph;
  const y = scoreTensor(p, spec.score);
  const yShape = b.node('Shape', [y]);
  let weights: string;
  let target: string | undefined;
  if (spec.targetMode === 'index') {
    graph.input = [...(graph.input ?? []), valueInfo(TARGET_INPUT, ['N'], DataType.INT64)];
    const flat = b.reshape(p.outputName, [0, -1]);
    const predicted = b.node('ArgMax', [flat], { axis: 1, keepdims: 0 });
    const useArgmax = b.node('Less', [TARGET_INPUT, b.ints([0], [])]);
    const chosen = b.node('Where', [useArgmax, predicted, TARGET_INPUT]);
    target = b.node('Identity', [chosen]);
    renameOutput(graph, target, TARGET_OUTPUT);
    target = TARGET_OUTPUT;
    weights = b.node('OneHot', [target, b.ints([numClasses], []), b.floats([0, 1])], { axis: -1 });
  } else {
    graph.input = [
      ...(graph.input ?? []),
      valueInfo(TARGET_INPUT, ['N', numClasses], DataType.FLOAT),
    ];
    weights = TARGET_INPUT;
  }
  return { y, dy: b.node('Reshape', [weights, yShape]), target };
}

/** Gives a builder-made tensor a stable public name. */
function renameOutput(graph: NonNullable<ModelProto['graph']>, from: string, to: string): void {
  for (const n of graph.node ?? []) {
    n.output = (n.output ?? []).map((o) => (o === from ? to : o));
    n.input = (n.input ?? []).map((i) => (i === from ? to : i));
  }
}
