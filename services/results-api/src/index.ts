export {
  FLAG_DEFAULTS,
  type FlagOptions,
  type FlagReason,
  flagOptions,
  flagReasons,
} from './flags.js';
export { ensureGroup, Indexer, type IndexerOptions } from './indexer.js';
export { type ResultsOptions, type ResultsService, startResults } from './results.js';
