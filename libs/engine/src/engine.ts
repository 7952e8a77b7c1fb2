import {
  type CamView,
  type CellGrid,
  cellGrid,
  type InputLayout,
  type LayerRef,
  resolveLayer,
} from '@camflow/onnx';
import { argmaxRows, concat } from './arrays.js';
import { ENGINE_METHODS, type EngineMethod, needsGradient, projected } from './cam-graph.js';
import {
  CAM_ACTIVATIONS,
  CAM_OUTPUT,
  CAM_WEIGHTED,
  type CompiledGraph,
  compileGraph,
  GUIDED_OUTPUT,
  type ScoreMode,
  TARGET_INPUT,
  TARGET_OUTPUT,
  tensorsToProbe,
} from './compile.js';
import type { CamRequest, EngineCore } from './core.js';
import { defaultLayerTensor, layerNameOf } from './default-layer.js';
import { eigenCams } from './eigencam.js';
import { CompileError, InputShapeError } from './errors.js';
import {
  type LayerView,
  type LayoutOption,
  layoutTensors,
  resolveView,
  resolveViews,
} from './layer-view.js';
import { explainMany } from './many-targets.js';
import { explainMasked } from './masked-runs.js';
import { type PreparedModel, prepareModel } from './prepared.js';
import { type ProbeResult, probeTensors } from './probe.js';
import {
  createSession,
  floatInput,
  int64Input,
  type ort,
  type RuntimeOptions,
  runSession,
  type Session,
} from './runtime.js';
import { augmentationSmoothing, fuseLayers } from './smoothing.js';
import type { Targets } from './targets.js';

/** A batch of preprocessed images, NCHW (or whatever layout the model takes), float32. */
export interface Batch {
  data: Float32Array;
  dims: number[];
}

/** A tensor handed to hooks and returned by runs. */
export interface TensorView {
  data: Float32Array;
  dims: number[];
}

/** Per-image target: a class index, 'predicted' (argmax), or a weight vector over classes. */
export type Target = 'predicted' | number | Float32Array | number[];

export interface RunOptions {
  /** One target for all images or one per image. Default 'predicted'. */
  target?: Target | Target[];
  /** Differentiate the output as exported (default, like the seed) or the logit before a final Softmax/Sigmoid. */
  score?: ScoreMode;
}

export interface ExplainOptions extends RunOptions {
  /**
   * Layer name; default: the last spatial map before the spatial dimensions collapse. A list
   * fuses the layers' maps (each scaled to [0, 1], averaged at the finest resolution).
   */
  layer?: string | string[];
  method?: EngineMethod;
  /** Eigen-smooth (gradient methods): the first principal component of the weighted activations. */
  eigenSmooth?: boolean;
  /** Aug-smooth: maps averaged over horizontal flips and intensities 0.9, 1, 1.1 (scaled to [0, 1]). */
  augSmooth?: boolean;
  /** Score-CAM / Ablation-CAM: channels per batched forward (default: maxBatch / images). */
  channelBatch?: number;
  /**
   * Which axes of the layer's tensor are channels and which are space: 'auto' (default) derives
   * them from the graph; 'nchw', 'nhwc' ([N, H, W, C], Swin, Keras) and 'tokens' ([N, T, C],
   * ViT: class/register tokens dropped, the rest folded to the patch grid) assert them.
   */
  layout?: LayoutOption;
  /**
   * Several classes per image ('all', class indices, or `{ top: k }`): one map per class, in one
   * pass where the graph allows (the head after the layer runs on K copies of each image). The
   * result's `perTarget` holds them; `cams` and `targets` hold the first. Overrides `target`.
   */
  targets?: Targets;
}

/** Maps for several targets per image (K of them), image-major. */
export interface TargetMaps {
  count: number;
  /** [N*K] the class of each map. */
  classes: number[];
  /** [N*K] the model's output for that class. */
  scores: Float32Array;
  /** [N, K, h, w], after ReLU, unnormalised. */
  cams: TensorView;
  /** Whether the K maps came from one pass (false: one target at a time, see the warning). */
  batched: boolean;
}

export interface RunResult {
  /** Model outputs flattened to [N, K]. */
  scores: Float32Array;
  numClasses: number;
  /** The class each image's score was taken from (-1 for weight-vector targets). */
  targets: number[];
}

export interface ExplainResult extends RunResult {
  layer: string;
  method: EngineMethod;
  /** How the layer's axes were read: 'nchw', 'nhwc', 'tokens' or 'general' (other splits). */
  layout: CamView['layout'];
  /** [N, h, w], after ReLU, before normalisation. */
  cams: TensorView;
  /**
   * Where the layer's cells sit on the input tensor (receptive-field centres), when the graph
   * says so unambiguously; for drawing the CAM where the layer actually looks.
   */
  grid?: CellGrid;
  /** With `targets`: every target's map. */
  perTarget?: TargetMaps;
  /**
   * Guided Grad-CAM: guided backpropagation to the input times the map (scaled to [0, 1] and
   * resized to the input), in the input's layout [N, C, H, W] (or [N, H, W, C]).
   */
  guided?: TensorView;
}

export type HookFn = (event: { layer: string; tensor: TensorView }) => void;

/** What `register*Hook` returns: `remove()` detaches the hook (safe to call twice). */
export interface HookHandle {
  remove(): void;
}

interface Hook {
  kind: 'forward' | 'backward';
  layer: LayerRef;
  fn: HookFn;
}

export interface EngineOptions extends RuntimeOptions {
  /** Largest batch sent to ORT in one call; bigger batches are split (bounds memory). */
  maxBatch?: number;
  /** How the image input holds its axes (a card's input.layout); default: read from the graph. */
  inputLayout?: InputLayout;
}

/**
 * Grad-CAM over an ONNX model, the way the seed does it with PyTorch hooks, but compiled: hooks
 * become graph outputs and a gradient subgraph from the score back to the hooked layer, run in
 * one ONNX Runtime call per micro-batch. The model bytes are never modified.
 */
export class Engine {
  private readonly hooks = new Set<Hook>();
  private readonly compiled = new Map<
    string,
    Promise<{ graph: CompiledGraph; session: Session; batchable: boolean }>
  >();
  private readonly probes = new Map<string, Promise<ProbeResult>>();
  private readonly views = new Map<string, Promise<LayerView>>();
  /** Many-target graphs that failed (or failed their check): those run one target at a time. */
  private readonly unbatchable = new Set<string>();
  private readonly compiledMasked = new Map<
    string,
    Promise<{ session: Session; batchable: boolean }>
  >();
  private readonly defaults = new Map<string, Promise<LayerRef>>();
  private readonly grids = new Map<string, CellGrid | undefined>();
  private plain?: Promise<Session>;
  private plainBatchable = true;
  private closed = false;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly prepared: PreparedModel,
    private readonly options: EngineOptions,
  ) {}

  /** Loads a model from ONNX bytes (throws OnnxFormatError on garbage, CompileError on unsupported models). */
  static load(bytes: Uint8Array, options: EngineOptions = {}): Engine {
    return new Engine(bytes, prepareModel(bytes), options);
  }

  /** The model's image input: name and non-batch dims (-1 where free). */
  get input(): { name: string; dims: number[] } {
    return { name: this.prepared.inputName, dims: this.prepared.inputDims };
  }

  /** Resolves a layer name (PyTorch module path, node or tensor name). */
  resolveLayer(layer: string): LayerRef {
    return resolveLayer(this.prepared.index, layer);
  }

  /** The layer used when none is named, for inputs of this shape. */
  defaultLayer(sampleDims?: number[]): Promise<LayerRef> {
    const sample = this.sampleShape(sampleDims);
    const key = sample.join('x');
    let found = this.defaults.get(key);
    if (!found) {
      found = defaultLayerTensor(this.prepared, sample, this.options).then((tensor) => ({
        name: layerNameOf(this.prepared.index, tensor),
        tensor,
        node: this.prepared.index.producer.get(tensor)?.name ?? undefined,
      }));
      found.catch(() => this.defaults.delete(key));
      this.defaults.set(key, found);
    }
    return found;
  }

  /** Like PyTorch's register_forward_hook: `fn` receives the layer's output on every run. */
  registerForwardHook(layer: string, fn: HookFn): HookHandle {
    return this.addHook({ kind: 'forward', layer: this.resolveLayer(layer), fn });
  }

  /** Like register_full_backward_hook: `fn` receives d(score)/d(layer output) on every run. */
  registerBackwardHook(layer: string, fn: HookFn): HookHandle {
    return this.addHook({ kind: 'backward', layer: this.resolveLayer(layer), fn });
  }

  private addHook(h: Hook): HookHandle {
    this.hooks.add(h);
    return { remove: () => void this.hooks.delete(h) };
  }

  /** The execution provider actually in use (after any fallback to CPU). */
  async provider(): Promise<string> {
    this.plain ??= createSession(this.prepared.bytes, this.options);
    return (await this.plain).provider;
  }

  /** The unmodified model's outputs, flattened to [N, K]. */
  async predict(batch: Batch): Promise<RunResult> {
    this.checkInput(batch);
    this.plain ??= createSession(this.prepared.bytes, this.options);
    const { session } = await this.plain;
    const parts: Float32Array[] = [];
    let numClasses = 0;
    const runChunk = async (chunk: Batch) => {
      const feeds = { [this.prepared.inputName]: floatInput(chunk.data, chunk.dims) };
      const out = await runSession(session, feeds, [this.prepared.outputName]);
      const scores = out[this.prepared.outputName];
      numClasses = scores.size / chunk.dims[0];
      parts.push(Float32Array.from(scores.data as Float32Array));
    };
    for (const chunk of this.chunks(batch, this.plainBatchable)) {
      try {
        await runChunk(chunk);
      } catch (err) {
        // Some exports bake batch 1 into a Reshape: fall back to one image at a time.
        if (chunk.dims[0] === 1 || !this.plainBatchable) throw err;
        this.plainBatchable = false;
        for (const single of this.chunks(chunk, false)) await runChunk(single);
      }
    }
    const scores = concat(parts);
    return { scores, numClasses, targets: argmaxRows(scores, numClasses) };
  }

  /**
   * One forward and backward pass with the registered hooks (the seed's
   * `model(x).backward()`); with no hooks it is a plain prediction.
   */
  async run(batch: Batch, opts: RunOptions = {}): Promise<RunResult> {
    if (this.hooks.size === 0) return this.predict(batch);
    const { result } = await this.execute(batch, opts);
    return result;
  }

  /** A CAM per image at the layer's resolution, plus scores and targets. Registered hooks also fire. */
  async explain(batch: Batch, opts: ExplainOptions = {}): Promise<ExplainResult> {
    const method = opts.method ?? 'gradcam';
    if (!ENGINE_METHODS.includes(method)) {
      throw new CompileError(`unknown method "${method}"; one of ${ENGINE_METHODS.join(', ')}`);
    }
    this.checkInput(batch);
    const sample = batch.dims.slice(1);
    if (Array.isArray(opts.layer))
      return fuseLayers((b, o) => this.explain(b, o), batch, opts, opts.layer);
    if (opts.augSmooth) {
      const view = await this.layerView(
        opts.layer ? this.resolveLayer(opts.layer) : await this.defaultLayer(sample),
        sample,
        opts.layout ?? 'auto',
      );
      const rank = batch.dims.length;
      const widthAxis = view.inputLayout === 'nhwc' && rank === 4 ? 2 : rank - 1;
      return augmentationSmoothing((b, o) => this.explain(b, o), batch, opts, widthAxis);
    }
    const eigenSmooth = opts.eigenSmooth ?? false;
    if (eigenSmooth && method === 'guided-gradcam') {
      throw new CompileError('eigen-smooth does not apply to guided-gradcam');
    }
    const layer = opts.layer ? this.resolveLayer(opts.layer) : await this.defaultLayer(sample);
    const view = await this.layerView(layer, sample, opts.layout ?? 'auto');
    const cam = { layer, method, view, eigenSmooth };
    if (opts.targets !== undefined) return explainMany(this.core(), batch, opts, cam);
    if (method === 'scorecam' || method === 'ablationcam')
      return explainMasked(this.core(), batch, opts, cam);
    const { result, outputs } = await this.execute(batch, opts, cam);
    const cams = projected(method, eigenSmooth)
      ? eigenCams(outputs.get(method === 'eigencam' ? CAM_ACTIVATIONS : CAM_WEIGHTED) as TensorView)
      : (outputs.get(CAM_OUTPUT) as TensorView);
    const guided = outputs.get(GUIDED_OUTPUT);
    // Receptive-field centres are derived for NCHW paths only; other layouts draw resized.
    const grid = view.layout === 'nchw' ? this.cellGrid(layer) : undefined;
    return {
      ...result,
      layer: layer.name,
      method,
      layout: view.layout,
      cams,
      ...(grid && { grid }),
      ...(guided && { guided }),
    };
  }

  /**
   * Every float tensor of rank >= 3 on the way from the input to the output, with what `layer`
   * would make of it: its dims (-1: grows with the batch) and its view, or the one-line refusal.
   * What a "which layers can I use?" listing needs, in one probe.
   */
  async layerViews(
    sample: number[],
    layout: LayoutOption = 'auto',
  ): Promise<{ tensor: string; dims: number[]; view?: CamView; refusal?: string }[]> {
    const p = this.prepared;
    const down = p.index.descendants([p.inputName]);
    const up = p.index.ancestors([p.outputName]);
    const candidates = p.index.nodes.flatMap((n) =>
      (n.output ?? []).filter((o) => o && down.has(o) && up.has(o)),
    );
    const probe = await this.probe(sample, layoutTensors(p, candidates));
    const tensors = candidates.filter((t) => {
      const f = probe.tensors.get(t);
      return f?.type === 'float32' && f.shape.length >= 3;
    });
    const views = resolveViews(
      p,
      probe,
      tensors.map((tensor) => ({
        tensor,
        layerName: tensor,
        layout,
        inputLayout: this.options.inputLayout,
      })),
    );
    return tensors.map((tensor, i) => {
      const v = views[i];
      const dims = probe.tensors.get(tensor)?.shape ?? [];
      return v instanceof Error ? { tensor, dims, refusal: v.message } : { tensor, dims, view: v };
    });
  }

  /**
   * How a layer's tensor becomes [N, C, h, w] (see `ExplainOptions.layout`); throws a
   * CompileError naming --layout where the graph cannot tell.
   */
  layerView(layer: LayerRef, sample: number[], layout: LayoutOption = 'auto'): Promise<LayerView> {
    const key = JSON.stringify([layer.tensor, sample, layout]);
    let v = this.views.get(key);
    if (!v) {
      v = this.probe(sample, layoutTensors(this.prepared, [layer.tensor])).then((probe) =>
        resolveView(this.prepared, probe, {
          tensor: layer.tensor,
          layerName: layer.name,
          layout,
          inputLayout: this.options.inputLayout,
        }),
      );
      v.catch(() => this.views.delete(key));
      this.views.set(key, v);
    }
    return v;
  }

  /** Internals for the explain variants in many-targets.ts and masked-runs.ts. */
  private core(): EngineCore {
    return {
      prepared: this.prepared,
      options: this.options,
      unbatchable: this.unbatchable,
      compiledMasked: this.compiledMasked,
      explain: (batch, opts) => this.explain(batch, opts),
      compile: (sample, spec) => this.compile(sample, spec),
      probe: (sample, tensors) => this.probe(sample, tensors),
      chunks: (batch, batchable) => this.chunks(batch, batchable),
      cellGrid: (layer) => this.cellGrid(layer),
    };
  }

  /** The layer's cell grid on the input (see `cellGrid` in @camflow/onnx); undefined if unknown. */
  cellGrid(layer: string | LayerRef): CellGrid | undefined {
    const ref = typeof layer === 'string' ? this.resolveLayer(layer) : layer;
    if (!this.grids.has(ref.tensor)) {
      this.grids.set(
        ref.tensor,
        cellGrid(this.prepared.index, this.prepared.inputName, ref.tensor),
      );
    }
    return this.grids.get(ref.tensor);
  }

  private async execute(batch: Batch, opts: RunOptions, cam?: CamRequest) {
    this.checkInput(batch);
    const hooks = [...this.hooks];
    const fwd = hooks.filter((h) => h.kind === 'forward');
    const bwd = hooks.filter((h) => h.kind === 'backward');
    const weights = isWeightTarget(opts.target);
    const activations = unique(fwd.map((h) => h.layer.tensor));
    const gradients = unique(bwd.map((h) => h.layer.tensor));
    const needGrad = gradients.length > 0 || (cam !== undefined && needsGradient(cam.method));
    const { graph, session, batchable } = await this.compile(batch.dims.slice(1), {
      activations,
      gradients,
      cam: cam && {
        tensor: cam.layer.tensor,
        method: cam.method,
        view: cam.view,
        eigenSmooth: cam.eigenSmooth,
        inputLayout: cam.view.inputLayout,
      },
      targetMode: weights ? 'weights' : 'index',
      score: opts.score ?? 'output',
      layerName: cam?.layer.name ?? hooks[0]?.layer.name ?? '',
    });
    const fetches = unique([
      graph.scores,
      ...activations,
      ...gradients.map((t) => graph.gradients.get(t) as string),
      ...(graph.cam ? [graph.cam] : []),
      ...(cam && !needsGradient(cam.method) ? [CAM_ACTIVATIONS] : []),
      ...(cam?.method === 'guided-gradcam' ? [GUIDED_OUTPUT] : []),
      ...(needGrad && graph.target ? [graph.target] : []),
    ]);
    const collected = new Map<string, Float32Array[]>();
    const dims = new Map<string, number[]>();
    const targetParts: number[] = [];
    let offset = 0;
    for (const chunk of this.chunks(batch, batchable)) {
      const n = chunk.dims[0];
      const feeds: Record<string, ort.Tensor> = {
        [this.prepared.inputName]: floatInput(chunk.data, chunk.dims),
      };
      if (needGrad) feeds[TARGET_INPUT] = targetTensor(opts.target, offset, n, graph.numClasses);
      const out = await runSession(session.session, feeds, fetches);
      for (const name of fetches) {
        const t = out[name];
        if (name === TARGET_OUTPUT) {
          for (const v of t.data as BigInt64Array) targetParts.push(Number(v));
          continue;
        }
        const list = collected.get(name) ?? [];
        list.push(Float32Array.from(t.data as Float32Array));
        collected.set(name, list);
        dims.set(name, [...t.dims]);
      }
      offset += n;
    }
    const outputs = new Map<string, TensorView>();
    for (const [name, parts] of collected) {
      const d = [...(dims.get(name) as number[])];
      d[0] = batch.dims[0];
      outputs.set(name, { data: concat(parts), dims: d });
    }
    const scores = (outputs.get(graph.scores) as TensorView).data;
    const result: RunResult = {
      scores,
      numClasses: graph.numClasses,
      targets:
        needGrad && !weights ? targetParts : reportedTargets(opts.target, scores, graph.numClasses),
    };
    for (const h of fwd)
      h.fn({ layer: h.layer.name, tensor: outputs.get(h.layer.tensor) as TensorView });
    for (const h of bwd) {
      h.fn({
        layer: h.layer.name,
        tensor: outputs.get(graph.gradients.get(h.layer.tensor) as string) as TensorView,
      });
    }
    return { result, outputs };
  }

  private async compile(sample: number[], spec: Parameters<typeof compileGraph>[2]) {
    const key = JSON.stringify([sample, spec]);
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = (async () => {
        const probe = await this.probe(
          sample,
          tensorsToProbe(this.prepared, [
            ...spec.activations,
            ...spec.gradients,
            ...(spec.cam ? [spec.cam.tensor] : []),
            // Guided backpropagation goes down to the input: every tensor's shape.
            ...(spec.cam?.method === 'guided-gradcam' ? [this.prepared.inputName] : []),
          ]),
        );
        const graph = compileGraph(this.prepared, probe, spec);
        const session = await createSession(graph.bytes, this.options);
        return { graph, session, batchable: probe.batchable };
      })();
      entry.catch(() => this.compiled.delete(key));
      this.compiled.set(key, entry);
    }
    return entry;
  }

  /** Shapes (and shape-derived values) of `tensors` at this input size, cached. */
  private probe(sample: number[], tensors: string[]): Promise<ProbeResult> {
    const key = JSON.stringify([sample, tensors]);
    let p = this.probes.get(key);
    if (!p) {
      p = probeTensors(
        this.prepared.model,
        this.prepared.inputName,
        sample,
        tensors,
        this.options,
        this.prepared.shapeOnly,
      );
      this.probes.set(key, p);
    }
    return p;
  }

  private *chunks(batch: Batch, batchable: boolean): Generator<Batch> {
    const n = batch.dims[0];
    const per = batch.data.length / n;
    const size = batchable ? Math.max(1, this.options.maxBatch ?? 32) : 1;
    for (let i = 0; i < n; i += size) {
      const m = Math.min(size, n - i);
      yield {
        data: batch.data.subarray(i * per, (i + m) * per),
        dims: [m, ...batch.dims.slice(1)],
      };
    }
  }

  private sampleShape(dims?: number[]): number[] {
    const declared = this.prepared.inputDims;
    if (dims) return dims;
    if (declared.some((d) => d < 0))
      throw new InputShapeError('the model input has free dimensions; give an input shape');
    return declared;
  }

  private checkInput(batch: Batch): void {
    if (this.closed) throw new Error('the engine is closed');
    const { dims, data } = batch;
    const declared = this.prepared.inputDims;
    const expected = `[N, ${declared.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;
    if (dims.length !== declared.length + 1 || dims[0] < 1) {
      throw new InputShapeError(
        `input shape [${dims.join(', ')}] does not fit the model's input ${expected}`,
      );
    }
    declared.forEach((d, i) => {
      if (d > 0 && dims[i + 1] !== d) {
        throw new InputShapeError(
          `input shape [${dims.join(', ')}] does not fit the model's input ${expected}`,
        );
      }
    });
    if (data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new InputShapeError(
        `input has ${data.length} values, shape [${dims.join(', ')}] needs ${dims.reduce((a, b) => a * b, 1)}`,
      );
    }
  }

  /** Releases every ORT session. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sessions = [...this.compiled.values()].map((p) =>
      p.then(
        (c) => c.session.session.release(),
        () => undefined,
      ),
    );
    if (this.plain)
      sessions.push(
        this.plain.then(
          (s) => s.session.release(),
          () => undefined,
        ),
      );
    await Promise.all(sessions);
    this.compiled.clear();
  }
}

function isWeightTarget(t: RunOptions['target']): boolean {
  const list = Array.isArray(t) && t.some((x) => typeof x !== 'number') ? t : [t];
  if (Array.isArray(t) && t.every((x) => typeof x === 'number') && t.length > 0) {
    // number[] is ambiguous: per-image class indices. Weight vectors must be Float32Array.
    return false;
  }
  return list.some((x) => x instanceof Float32Array);
}

function targetTensor(
  target: RunOptions['target'],
  offset: number,
  n: number,
  k: number,
): ort.Tensor {
  const perImage = (i: number): Target => {
    if (Array.isArray(target)) {
      const t = target[offset + i];
      if (t === undefined)
        throw new InputShapeError(`${target.length} targets for ${offset + n}+ images`);
      return t as Target;
    }
    return target ?? 'predicted';
  };
  const targets = Array.from({ length: n }, (_, i) => perImage(i));
  if (targets.some((t) => t instanceof Float32Array)) {
    const data = new Float32Array(n * k);
    targets.forEach((t, i) => {
      if (!(t instanceof Float32Array) || t.length !== k)
        throw new InputShapeError(`weight targets need ${k} values per image`);
      data.set(t, i * k);
    });
    return floatInput(data, [n, k]);
  }
  return int64Input(
    targets.map((t) => {
      if (t === 'predicted') return -1;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= k) {
        throw new InputShapeError(`target ${String(t)} is not a class index in [0, ${k - 1}]`);
      }
      return t;
    }),
  );
}

/** Targets when the graph chose none (no backward pass): as asked, argmax, or -1 for weights. */
function reportedTargets(target: RunOptions['target'], scores: Float32Array, k: number): number[] {
  return argmaxRows(scores, k).map((best, i) => {
    const t = Array.isArray(target) ? target[i] : target;
    if (typeof t === 'number') return t;
    return t === undefined || t === 'predicted' ? best : -1;
  });
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
