import type { CellGrid, LayerRef } from '@camflow/onnx';
import type { EngineMethod } from './cam-graph.js';
import type { CompiledGraph, CompileSpec } from './compile.js';
import type { Batch, EngineOptions, ExplainOptions, ExplainResult } from './engine.js';
import type { LayerView } from './layer-view.js';
import type { PreparedModel } from './prepared.js';
import type { ProbeResult } from './probe.js';
import type { Session } from './runtime.js';

/** What an explain call computes: the layer, its view, the method. */
export interface CamRequest {
  layer: LayerRef;
  method: EngineMethod;
  view: LayerView;
  eigenSmooth?: boolean;
}

/**
 * The engine's internals the explain variants (many targets, masked methods) run on: the model,
 * its cached compiled graphs and probes, micro-batching.
 */
export interface EngineCore {
  readonly prepared: PreparedModel;
  readonly options: EngineOptions;
  /** Keys of many-target or head-copy graphs that failed: those take the slower, general path. */
  readonly unbatchable: Set<string>;
  readonly compiledMasked: Map<string, Promise<{ session: Session; batchable: boolean }>>;
  explain(batch: Batch, opts: ExplainOptions): Promise<ExplainResult>;
  compile(
    sample: number[],
    spec: CompileSpec,
  ): Promise<{ graph: CompiledGraph; session: Session; batchable: boolean }>;
  probe(sample: number[], tensors: string[]): Promise<ProbeResult>;
  chunks(batch: Batch, batchable: boolean): Generator<Batch>;
  cellGrid(layer: LayerRef): CellGrid | undefined;
}
