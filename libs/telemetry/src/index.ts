export { createLogger, type Logger } from './logger.js';
export { Counter, createRegistry, Gauge, Histogram, Registry, STAGE_BUCKETS } from './metrics.js';
