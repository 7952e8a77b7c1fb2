// Public API of @camflow/worker: the service entry point and its building blocks.
export {
  InProcessRuntime,
  type ModelRuntime,
  ThreadedRuntime,
} from './engine-host.js';
export {
  type Cam,
  ImagePool,
  type ImageWork,
  InlineImageWork,
  type Prepared,
  type Priority,
  prepareImage,
  type RenderOptions,
} from './image-work.js';
export { toJobError } from './job-errors.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
export {
  type BatchExplainer,
  type BatchItem,
  type BatchKey,
  type BatchReport,
  type ExplainBatchOptions,
  type ExplainOutput,
  type ItemResult,
  MicroBatcher,
  type MicroBatcherOptions,
} from './micro-batcher.js';
export { type LoadedModel, ModelRegistry, type ModelRegistryOptions } from './model-registry.js';
export {
  DEFAULT_OUTPUTS,
  type OutputSettings,
  OVERLAY_TYPES,
  outputSettings,
  renderOptions,
} from './outputs.js';
export { eventStats, predictedClass } from './prediction.js';
export {
  DEFAULT_MAX_OBJECT_BYTES,
  failedEvent,
  type JobDeps,
  type JobInput,
  parsePayload,
  processJob,
  type StageTimings,
} from './process-job.js';
export { eventPublisher } from './publisher.js';
export { type StartWorkerOptions, startWorker, type WorkerService } from './worker.js';
