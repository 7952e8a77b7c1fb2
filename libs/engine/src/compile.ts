import {
  type CamView,
  cloneModel,
  DataType,
  encodeModel,
  GraphBuilder,
  GraphIndex,
  type InputLayout,
  type ModelProto,
  untypedOutput,
  valueInfo,
} from '@camflow/onnx';
import type { RuleContext } from './autodiff/context.js';
import { differentiate } from './autodiff/differentiate.js';
import { guidedRules } from './autodiff/rules/guided.js';
import {
  canonical,
  type EngineMethod,
  needsGradient,
  projected,
  weightedActivations,
} from './cam-graph.js';
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
  cam?: CamSpec;
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

/** The CAM a graph computes: the layer, how it becomes [N, C, h, w], the method, eigen-smooth. */
export interface CamSpec {
  tensor: string;
  method: EngineMethod;
  view: CamView;
  eigenSmooth?: boolean;
  /** Guided Grad-CAM: which input axes are rows and columns. */
  inputLayout?: InputLayout;
}

export const TARGET_INPUT = 'camflow_target';
export const CAM_OUTPUT = 'camflow_cam';
export const TARGET_OUTPUT = 'camflow_target_index';
/** The layer's activations as [N, C, h, w] (what EigenCAM reads). */
export const CAM_ACTIVATIONS = 'camflow_cam_activations';
/** A gradient method's weighted activations [N, C, h, w], for a projection (eigen-smooth). */
export const CAM_WEIGHTED = 'camflow_cam_weighted';
/** Guided Grad-CAM: guided backpropagation to the input times the upsampled map, input layout. */
export const GUIDED_OUTPUT = 'camflow_guided';
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
    const cam = compileTargets(b, p, probe, spec, numClasses, spec.cam);
    for (const o of [TARGET_OUTPUT, cam, REPLICA_SCORES, CHECKED_SCORES]) addOutput(o);
    result.cam = cam;
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
    if (spec.cam?.method === 'guided-gradcam') {
      const guided = guidedBackprop(ctx, index, p, probe, { y, dy, layerName: spec.layerName });
      const map = emitCam(
        b,
        spec.cam,
        canonical(b, spec.cam.tensor, spec.cam.view),
        grads.get(spec.cam.tensor) as string,
      );
      renameOutput(
        graph,
        b.node('Mul', [guided, upsampled(b, map, p, spec.cam.inputLayout)]),
        GUIDED_OUTPUT,
      );
      result.cam = map;
      addOutput(map);
      addOutput(GUIDED_OUTPUT);
    } else if (spec.cam && needsGradient(spec.cam.method)) {
      const name = emitCam(
        b,
        spec.cam,
        canonical(b, spec.cam.tensor, spec.cam.view),
        grads.get(spec.cam.tensor) as string,
      );
      result.cam = name;
      addOutput(name);
    }
  }
  result.bytes = encodeModel(model);
  return result;
}

/** The differentiated tensor: the output, or the input of a final Softmax/Sigmoid. */
export function scoreTensor(p: PreparedModel, score: ScoreMode): string {
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
  cam: CamSpec,
): string {
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
  return emitCam(b, cam, canonical(b, replica.from, cam.view), g);
}

/**
 * The CAM's graph output from the activations (canonical) and the layer's gradient (raw):
 * CAM_OUTPUT, the map; or CAM_WEIGHTED, the weighted activations a projection reads.
 */
function emitCam(b: GraphBuilder, cam: CamSpec, a: string, g: string): string {
  const w = weightedActivations(b, cam.method, a, canonical(b, g, cam.view));
  if (projected(cam.method, cam.eigenSmooth ?? false)) {
    renameOutput(b.graph, b.node('Identity', [w]), CAM_WEIGHTED);
    return CAM_WEIGHTED;
  }
  renameOutput(b.graph, b.node('Relu', [b.reduceSum(w, [1], false)]), CAM_OUTPUT);
  return CAM_OUTPUT;
}

/** The score's gradient at the input, through ReLUs by the guided rule. */
function guidedBackprop(
  ctx: RuleContext,
  index: GraphIndex,
  p: PreparedModel,
  probe: ProbeResult,
  req: { y: string; dy: string; layerName: string },
): string {
  const grads = differentiate(index, ctx, {
    ...req,
    wrt: [p.inputName],
    differentiable: (t) => probe.tensors.get(t)?.type === 'float32',
    rules: guidedRules,
  });
  const g = grads.get(p.inputName);
  if (!g) throw new CompileError('the output does not depend on the input');
  return g;
}

/**
 * The map [N, h, w] min-max normalised per image and resized to the input's rows and columns
 * (bilinear, half-pixel: cv2.resize as pytorch-grad-cam uses), with a unit channel axis where
 * the input has its channels.
 */
function upsampled(
  b: GraphBuilder,
  map: string,
  p: PreparedModel,
  layout: InputLayout | undefined,
): string {
  if (p.opset < 11)
    throw new CompileError('guided-gradcam needs opset >= 11 (re-export the model)');
  const dims = p.inputDims;
  if (dims.length !== 3 || dims.some((d) => d < 0)) {
    throw new CompileError('guided-gradcam needs an image input of fixed size');
  }
  const nhwc = layout === 'nhwc';
  const [h, w] = nhwc ? [dims[0], dims[1]] : [dims[1], dims[2]];
  const lowest = b.node('Sub', [map, b.reduceMin(map, [1, 2], true)]);
  const norm = b.node('Div', [
    lowest,
    b.node('Add', [b.reduceMax(lowest, [1, 2], true), b.floats([1e-7], [])]),
  ]);
  const m4 = b.unsqueeze(norm, [nhwc ? 3 : 1]);
  const n = b.slice(b.node('Shape', [m4]), [0], [1], [0]);
  const sizes = b.node('Concat', nhwc ? [n, b.ints([h, w, 1])] : [n, b.ints([1, h, w])], {
    axis: 0,
  });
  return b.node('Resize', [m4, '', '', sizes], { mode: 'linear' });
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
export function renameOutput(
  graph: NonNullable<ModelProto['graph']>,
  from: string,
  to: string,
): void {
  for (const n of graph.node ?? []) {
    n.output = (n.output ?? []).map((o) => (o === from ? to : o));
    n.input = (n.input ?? []).map((i) => (i === from ? to : i));
  }
}
