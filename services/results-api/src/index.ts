export { ensureGroup, Indexer, type IndexerOptions } from './indexer/consumer.js';
export { renderAuditPage } from './report/audit-page.js';
export { type ResultsOptions, type ResultsService, startResults } from './service.js';
export type { AuditView } from './store/audit.js';
