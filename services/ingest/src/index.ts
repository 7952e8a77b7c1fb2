// Public API of @camflow/ingest.
export { buildIngestApp } from './app.js';
export type { IngestDeps } from './deps.js';
export {
  type DicomIntakeDeps,
  dicomInstanceKey,
  type IntakeContext,
  type IntakeOutcome,
  receiveDicom,
} from './dicom-intake.js';
export {
  type EnqueueResult,
  EXPLAIN_JOB_OPTS,
  type ExplainItem,
  type ExplainQueueHandle,
  enqueueExplainJobs,
  pinnedSource,
} from './enqueue.js';
export {
  type ExpansionWorker,
  type ExpansionWorkerOptions,
  startExpansionWorker,
} from './expand-run.js';
export { type IngestOptions, type IngestService, startIngest } from './ingest.js';
export { createIngestMetrics, type IngestMetrics } from './metrics.js';
export { ModelCatalog } from './models.js';
export { listModels, type ModelSummary } from './models-list.js';
export {
  ModelNameMismatchError,
  type PushedModel,
  type PushModelOptions,
  pushModel,
} from './models-push.js';
export { closeQueues, createQueues, type IngestQueues } from './queues.js';
export { EXPAND_JOB_OPTS } from './routes/runs.js';
export { type ExpandOutcome, type ExpansionOptions, RunExpander } from './run-expander.js';
export { eventsRunId } from './run-ids.js';
export { getRun, type StoredRun } from './run-store.js';
export { decodeKey, parseNotification } from './s3-events.js';
export {
  cardClasses,
  FolderClassesError,
  type ResolvedClasses,
  resolveFolderClasses,
} from './sources/folder-classes.js';
export { LAYOUT_FIELD, type StoredLayout, surveySource } from './sources/folder-expansion.js';
export {
  extensionOf,
  type FolderClass,
  FolderClasses,
  IMAGE_EXTENSIONS,
  isJunkFolder,
  type KeyPlace,
  looksLikeImage,
  placeKey,
} from './sources/folder-labels.js';
export {
  type Examples,
  FolderSurvey,
  type LayoutSurvey,
  type SplitFigures,
  surveyError,
  surveyWarnings,
} from './sources/folder-survey.js';
export { ManifestParser, splitCsv } from './sources/manifest-parser.js';
