export type { CellGrid } from '@camflow/onnx';
export { gradRules, nonDifferentiableOps } from './autodiff/rules/index.js';
export {
  CAM_METHODS,
  type CamMethod,
  ENGINE_METHODS,
  type EngineMethod,
} from './cam-graph.js';
export type { ScoreMode } from './compile.js';
export {
  type Batch,
  Engine,
  type EngineOptions,
  type ExplainOptions,
  type ExplainResult,
  type HookFn,
  type HookHandle,
  type RunOptions,
  type RunResult,
  type Target,
  type TargetMaps,
  type TensorView,
} from './engine.js';
export { CompileError, InputShapeError, UnsupportedOpError } from './errors.js';
export { LAYOUTS, type LayoutOption } from './layer-view.js';
export { createSession, type ExecutionProvider, type RuntimeOptions } from './runtime.js';
export type { Targets } from './targets.js';
