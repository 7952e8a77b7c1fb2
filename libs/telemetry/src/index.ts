export { type Closable, type RunOptions, runUntilSignal } from './lifecycle.js';
export { createLogger, type Logger } from './logger.js';
export { Counter, createRegistry, Gauge, Histogram, Registry, STAGE_BUCKETS } from './metrics.js';
export {
  dependencyState,
  type OpsServer,
  type OpsServerOptions,
  type ProbeResult,
  startOpsServer,
} from './ops-server.js';
