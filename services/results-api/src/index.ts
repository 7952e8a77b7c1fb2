export { ensureGroup, Indexer, type IndexerOptions } from './indexer/consumer.js';
export {
  FLAG_DEFAULTS,
  type FlagOptions,
  type FlagReason,
  flagOptions,
  flagReasons,
} from './report/flags.js';
export { type ResultsOptions, type ResultsService, startResults } from './service.js';
