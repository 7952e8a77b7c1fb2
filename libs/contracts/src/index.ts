export {
  apiTokensSchema,
  authenticate,
  canUseBucket,
  type EventRule,
  eventRulesSchema,
  hasScope,
  matchEventRule,
  type Principal,
  parseApiTokens,
  parseEventRules,
  SCOPES,
  type Scope,
  tokenId,
} from './auth.js';
export { classifyError, PermanentError, TransientError } from './errors.js';
export {
  type CompletedEvent,
  type CompletionEvent,
  camStatsSchema,
  completionEventSchema,
  EVENT_FIELD,
  type FailedEvent,
  outputsSchema,
  predictionSchema,
} from './events.js';
export {
  CAM_ALIGNMENTS,
  CAM_METHODS,
  type CamAlignment,
  type CamMethod,
  camAlignSchema,
  camMethodSchema,
  type ExpandRunJob,
  type ExplainJob,
  type ExplainSettings,
  expandRunJobSchema,
  explainJobId,
  explainJobSchema,
  explainSettingsSchema,
  JOBS,
  type JobName,
  type JobPayload,
  prioritySchema,
  RETRY,
  type SourceObject,
  sourceObjectSchema,
  targetSchema,
} from './jobs.js';
export { outputKeys, outputPrefix, safeSegment } from './layout.js';
export { type ModelRef, modelKeys, modelRefSchema, parseModelRef } from './model-ref.js';
export {
  EVENTS_STREAM,
  EVENTS_STREAM_MAXLEN,
  type ExplainQueue,
  KEY_PREFIX,
  QUEUES,
  RESULTS_GROUP,
} from './names.js';
export {
  bucketNameSchema,
  bucketViolation,
  checkObjectKey,
  KEY_RULES,
  type KeyRule,
  type KeyViolation,
  keyPrefixSchema,
  keyViolation,
  MAX_KEY_BYTES,
  objectKeySchema,
  UnsafeKeyError,
} from './object-keys.js';
export { redisKeys } from './redis-keys.js';
export {
  type CreateRunRequest,
  createJobRequestSchema,
  createRunRequestSchema,
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  runRecordSchema,
} from './runs.js';
