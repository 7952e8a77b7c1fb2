import {
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
import { canonical, uncanonical } from './cam-graph.js';
import {
  CAM_ACTIVATIONS,
  type CamSpec,
  renameOutput,
  type ScoreMode,
  scoreTensor,
} from './compile.js';
import { CompileError } from './errors.js';
import type { PreparedModel } from './prepared.js';
import type { ProbeResult } from './probe.js';
import { replicateHead } from './replicate.js';

/** Which channels a run masks (int64 [B]); an index >= C masks none (a check copy). */
export const CHANNELS_INPUT = 'camflow_channels';
/** The score tensor of every masked copy, [N*B, ...]. */
export const MASKED_SCORES = 'camflow_masked_scores';

export interface MaskedSpec {
  cam: CamSpec;
  score: ScoreMode;
  /** Channels per run (B). */
  copies: number;
  /** Ablation: copy the head only ('head'), or the whole model from the input ('model'). */
  replicate: 'head' | 'model';
  inputLayout?: InputLayout;
}

/**
 * Gradient-free CAMs as batched masked forward passes in one graph: the model runs once on the
 * N images (activations, scores), and its copies run on N*B masked versions, B channels per call.
 * Ablation-CAM (Desai & Ramaswamy): the layer's channel k set to 0, only the head after the
 * layer recomputed (or the whole model, where the head cannot be copied). Score-CAM (Wang et
 * al., pytorch-grad-cam): the input times channel k's activation map, upsampled to the input
 * like torch's UpsamplingBilinear2d (align_corners) and min-max normalised.
 */
export function compileMasked(p: PreparedModel, probe: ProbeResult, spec: MaskedSpec): Uint8Array {
  const model: ModelProto = cloneModel(p.model);
  const graph = model.graph as NonNullable<ModelProto['graph']>;
  const b = new GraphBuilder(graph, p.opset);
  if (p.opset < 11)
    throw new CompileError(`${spec.cam.method} needs opset >= 11 (re-export the model)`);
  graph.input = [...(graph.input ?? []), valueInfo(CHANNELS_INPUT, [spec.copies], DataType.INT64)];
  const { view, tensor } = spec.cam;
  const acts = canonical(b, tensor, view);
  renameOutput(graph, b.node('Identity', [acts]), CAM_ACTIVATIONS);
  const y = scoreTensor(p, spec.score);
  const facts = (t: string) => probe.tensors.get(t);
  const index = new GraphIndex(graph);
  let replicaY: string;
  if (spec.cam.method === 'ablationcam') {
    // keep[n*B + b, c] = 0 where c is run b's channel: 1 - one_hot, tiled over the images.
    const keep = b.node('Sub', [
      b.floats([1], []),
      b.node('OneHot', [CHANNELS_INPUT, b.ints([view.channels], []), b.floats([0, 1])], {
        axis: -1,
      }),
    ]);
    const images = b.slice(b.node('Shape', [p.inputName]), [0], [1], [0]);
    const tiled = b.node('Tile', [keep, b.node('Concat', [images, b.ints([1])], { axis: 0 })]);
    const mask = b.reshape(tiled, [-1, view.channels, 1, 1]);
    const ablate = (rep: string) =>
      uncanonical(b, b.node('Mul', [canonical(b, rep, view), mask]), view, rep);
    const from = spec.replicate === 'head' ? tensor : p.inputName;
    replicaY = replicateHead(b, index, facts, {
      from,
      y,
      copies: spec.copies,
      transform: { tensor, fn: ablate },
    }).y;
  } else {
    const masks = scoreCamMasks(b, p, acts, spec);
    replicaY = replicateHead(b, index, facts, {
      from: p.inputName,
      y,
      copies: spec.copies,
      transform: { tensor: p.inputName, fn: (rep) => b.node('Mul', [rep, masks]) },
    }).y;
  }
  renameOutput(graph, b.node('Identity', [replicaY]), MASKED_SCORES);
  for (const o of [CAM_ACTIVATIONS, MASKED_SCORES])
    graph.output = [...(graph.output ?? []), untypedOutput(o)];
  return encodeModel(model);
}

/** Score-CAM's masks for the B channels of this run, shaped to multiply the input [N*B, ...]. */
function scoreCamMasks(b: GraphBuilder, p: PreparedModel, acts: string, spec: MaskedSpec): string {
  const dims = p.inputDims;
  const nhwc = spec.inputLayout === 'nhwc';
  if (dims.length !== 3 || dims.some((d) => d < 0)) {
    throw new CompileError(
      'scorecam needs an image input of fixed size [N, C, H, W] or [N, H, W, C]',
    );
  }
  const [h, w] = nhwc ? [dims[0], dims[1]] : [dims[1], dims[2]];
  const sizes = b.node(
    'Concat',
    [b.slice(b.node('Shape', [acts]), [0], [2], [0]), b.ints([h, w])],
    { axis: 0 },
  );
  const up = b.node('Resize', [acts, '', '', sizes], {
    mode: 'linear',
    coordinate_transformation_mode: 'align_corners',
  });
  const lo = b.reduceMin(up, [2, 3], true);
  const hi = b.reduceMax(up, [2, 3], true);
  const norm = b.node('Div', [
    b.node('Sub', [up, lo]),
    b.node('Add', [b.node('Sub', [hi, lo]), b.floats([1e-8], [])]),
  ]);
  const picked = b.node('Gather', [norm, CHANNELS_INPUT], { axis: 1 });
  return b.reshape(picked, nhwc ? [-1, h, w, 1] : [-1, 1, h, w]);
}
