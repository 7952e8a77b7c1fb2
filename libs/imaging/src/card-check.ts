/**
 * The card against its model: what the card says the model takes and gives (input channels,
 * size and layout; how many classes; the final activation) checked against the ONNX graph
 * wherever the graph states it (static dimensions, a visible last op). A mismatch would
 * otherwise surface as a shape error on every job, or worse, as plausible wrong answers (a
 * 2-class card on a 3-output model; thresholds of 0.5 applied to logits).
 *
 * The graph is read structurally (the fields of ONNX's GraphProto that matter here), so this
 * library needs no ONNX dependency: pass `decodeModel(bytes).graph` from @camflow/onnx.
 */
import type { ModelCard } from './card.js';

interface DimLike {
  dimValue?: number | { toNumber(): number } | null;
  dimParam?: string | null;
}
interface ValueInfoLike {
  name?: string | null;
  type?: { tensorType?: { shape?: { dim?: DimLike[] | null } | null } | null } | null;
}
interface NodeLike {
  opType?: string | null;
  input?: string[] | null;
  output?: string[] | null;
}
/** The parts of an ONNX GraphProto this check reads. */
export interface GraphLike {
  input?: ValueInfoLike[] | null;
  output?: ValueInfoLike[] | null;
  initializer?: { name?: string | null }[] | null;
  node?: NodeLike[] | null;
}

/** What the graph says about its image input and its scores. */
export interface ModelIO {
  input: { name: string; dims: (number | null)[] };
  output: { name: string; dims: (number | null)[] };
  /** The op that computes the output, looking through reshapes and casts (when there is one). */
  lastOp?: string;
}

/** Ops that only move or relabel values: the activation before them is the output's. */
const PASS_THROUGH = new Set([
  'Identity',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Cast',
  'Transpose',
  'Dropout',
]);

/** Ops after which the outputs are raw scores (no activation at the end). */
const LINEAR = new Set([
  'Gemm',
  'MatMul',
  'Add',
  'Conv',
  'GlobalAveragePool',
  'ReduceMean',
  'AveragePool',
]);

const dimOf = (d: DimLike): number | null => {
  const v = d.dimValue;
  const n = typeof v === 'number' ? v : v ? v.toNumber() : 0;
  return n > 0 ? n : null;
};

/** The first real input, the first output and the op behind it. */
export function modelIO(graph: GraphLike): ModelIO {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const input = (graph.input ?? []).find((v) => !inits.has(v.name ?? ''));
  const output = (graph.output ?? [])[0];
  const dims = (v: ValueInfoLike | undefined) => (v?.type?.tensorType?.shape?.dim ?? []).map(dimOf);
  const producer = new Map<string, NodeLike>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) producer.set(o, n);
  let node = producer.get(output?.name ?? '');
  for (let hops = 0; node && PASS_THROUGH.has(node.opType ?? '') && hops < 16; hops++) {
    node = producer.get(node.input?.[0] ?? '');
  }
  return {
    input: { name: input?.name ?? '', dims: dims(input) },
    output: { name: output?.name ?? '', dims: dims(output) },
    ...(node?.opType ? { lastOp: node.opType } : {}),
  };
}

const shape = (dims: (number | null)[]) =>
  `[${dims.map((d, i) => d ?? (i === 0 ? 'N' : '?')).join(', ')}]`;

/** The activation the last op shows, when it shows one. */
function visibleActivation(op: string | undefined): ModelCard['output']['activation'] | undefined {
  if (op === 'Softmax') return 'softmax';
  if (op === 'Sigmoid') return 'sigmoid';
  // Log-probabilities: their argmax and their softmax are the class's, as logits' are.
  if (op === 'LogSoftmax') return 'logits';
  if (op && LINEAR.has(op)) return 'logits';
  return undefined;
}

/**
 * Every way the card contradicts the model, one sentence each naming both sides (empty when
 * they agree, or where the graph does not say: symbolic dimensions, an unrecognised last op).
 */
export function cardModelIssues(card: Pick<ModelCard, 'input' | 'output'>, io: ModelIO): string[] {
  const issues: string[] = [];
  const { input, output } = card;
  const dims = io.input.dims;
  const inName = `the model's input "${io.input.name}" is ${shape(dims)}`;
  const [h, w] = input.size;
  if (dims.length !== 4) {
    if (dims.length > 0) {
      issues.push(`input: the card describes images ([N, C, H, W] or [N, H, W, C]) but ${inName}`);
    }
  } else {
    const nchw = { c: dims[1], h: dims[2], w: dims[3] };
    const nhwc = { c: dims[3], h: dims[1], w: dims[2] };
    const said = input.layout === 'NHWC' ? nhwc : nchw;
    const other = input.layout === 'NHWC' ? nchw : nhwc;
    const fits = (x: typeof said) =>
      (x.c === null || x.c === input.channels) &&
      (x.h === null || x.h === h) &&
      (x.w === null || x.w === w);
    const isChannels = (v: number | null) => v === 1 || v === 3;
    if (!fits(said) && fits(other) && isChannels(other.c) && !isChannels(said.c)) {
      const layout = input.layout === 'NHWC' ? 'NCHW' : 'NHWC';
      issues.push(
        `input.layout: the card says ${input.layout} but ${inName} (${layout === 'NHWC' ? 'channels last' : 'channels first'}): set "layout": "${layout}"`,
      );
    } else {
      if (said.c !== null && said.c !== input.channels) {
        issues.push(
          `input.channels: the card says ${input.channels}, but ${inName}: it takes ${said.c}`,
        );
      }
      if ((said.h !== null && said.h !== h) || (said.w !== null && said.w !== w)) {
        issues.push(
          `input.size: the card says ${h}x${w} (height x width), but ${inName}: it takes ${said.h ?? '?'}x${said.w ?? '?'}`,
        );
      }
    }
  }
  const rest = io.output.dims.slice(1);
  if (rest.length > 0 && rest.every((d) => d !== null)) {
    const k = rest.reduce((a, d) => a * (d as number), 1);
    if (k !== output.classes.length) {
      issues.push(
        `output.classes: the card names ${output.classes.length} class${output.classes.length === 1 ? '' : 'es'}, but the model's output "${io.output.name}" is ${shape(io.output.dims)}: ${k} score${k === 1 ? '' : 's'} per image`,
      );
    }
  }
  const seen = visibleActivation(io.lastOp);
  if (seen && seen !== output.activation) {
    const what =
      seen === 'logits'
        ? io.lastOp === 'LogSoftmax'
          ? 'a LogSoftmax (log-probabilities)'
          : `${io.lastOp} (no activation at the end: logits)`
        : `a ${io.lastOp}`;
    const fix =
      seen === 'logits'
        ? `set "activation": "logits"${output.activation === 'logits' ? '' : `, or export the model with its ${output.activation}`}`
        : `set "activation": "${seen}"`;
    issues.push(
      `output.activation: the card says ${output.activation}, but the model's output "${io.output.name}" comes from ${what}: ${fix}`,
    );
  }
  return issues;
}

/** Raised when a card contradicts its model; the message lists every contradiction. */
export class CardModelMismatchError extends Error {
  readonly permanent = true;
  constructor(
    readonly issues: string[],
    where = 'the card does not fit the model',
  ) {
    super(`${where}: ${issues.join('; ')}`);
    this.name = 'CardModelMismatchError';
  }
}

/** Throws `CardModelMismatchError` when the card contradicts the graph. */
export function checkCardAgainstModel(
  card: Pick<ModelCard, 'input' | 'output'>,
  graph: GraphLike,
  where?: string,
): void {
  const issues = cardModelIssues(card, modelIO(graph));
  if (issues.length) throw new CardModelMismatchError(issues, where);
}
