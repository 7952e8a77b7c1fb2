export { ensureGroup, Indexer, type IndexerOptions } from './indexer/consumer.js';
export { type ResultsOptions, type ResultsService, startResults } from './service.js';
