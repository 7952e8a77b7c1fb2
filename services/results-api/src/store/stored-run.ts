import type { RunRecord } from '@camflow/contracts';
import type { RunLayout } from './run-layout.js';

/** A run as ingest stored it, plus its listing progress. */
export interface StoredRun {
  record: RunRecord;
  /** Keys enqueued so far (ingest's `listed` field), when known. */
  listed?: number;
  /** Keys and manifest lines skipped while listing (unreadable, or breaking the key policy). */
  skipped: number;
  /** Folder-labelled runs: what the source survey found (ingest's `layout` field). */
  layout?: RunLayout;
}
