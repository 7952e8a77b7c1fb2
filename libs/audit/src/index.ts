// Public API of @camflow/audit: data-set audits of a classifier's CAMs without masks (pure: no IO).
export {
  CANDIDATE_DEFAULTS,
  type Candidate,
  type CandidateOptions,
  findCandidates,
  heatShare,
  inBox,
  type PixelBox,
  poissonUpper,
  scanCandidates,
} from './candidates.js';
export {
  type AtlasGroup,
  AuditCollector,
  type AuditImage,
  type ClassImages,
  type Collected,
  outcomeOf,
} from './collect.js';
export {
  camInFrame,
  camPeak,
  compactCam,
  expandCam,
  type FrameCam,
  type RawCam,
} from './compact-cam.js';
export { executeImageTask, type ImageResult, type Predict } from './execute.js';
export {
  auc,
  blurred,
  camOrder,
  curves,
  FAITHFULNESS_STEPS,
  type FaithfulnessCurves,
  faithfulnessInputs,
  randomOrder,
} from './faithfulness.js';
export {
  finalizeAudit,
  type ModelInfo,
  VERDICT_DEFAULTS,
  type VerdictOptions,
} from './finalize.js';
export { auditClassNames, labelToClass } from './labels.js';
export { controlBoxes, occlude } from './occlusion.js';
export {
  type AuditPlan,
  type ImageTask,
  PLAN_DEFAULTS,
  type PlannedCandidate,
  type PlanOptions,
  planAudit,
} from './plan.js';
export {
  type Activation,
  classProbabilities,
  explainedClass,
  predictedOf,
} from './probabilities.js';
export { hashSeed, rng } from './random.js';
export { drawBoxes, meanPixels, renderAtlas, renderExample } from './render.js';
export { binomialTail, signTest, wilcoxonSignedRank } from './sign-test.js';
export { at, type ImageTensor } from './tensor.js';
export { placeOf } from './words.js';
