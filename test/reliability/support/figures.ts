// Measured figures of the reliability suites, one JSON line per case in
// .camflow/reliability/<suite>.jsonl; scripts/reliability-report.mjs turns them into
// docs/RELIABILITY.md.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the suites write their figures (git-ignored). */
export const FIGURES_DIR = fileURLToPath(
  new URL('../../../.camflow/reliability/', import.meta.url),
);

/** One case's record: what was done, what should happen, what was measured, whether it held. */
export interface CaseFigures {
  case: string;
  /** The fault or input, in words. */
  injected: string;
  /** The outcome the case requires, in words. */
  expected: string;
  pass: boolean;
  /** Measured figures (counts, seconds, ...). */
  [figure: string]: unknown;
}

/** Appends `figures` to `.camflow/reliability/<suite>.jsonl`, stamped with the time. */
export function recordFigures(suite: string, figures: CaseFigures): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const line = JSON.stringify({ suite, ...figures, at: new Date().toISOString() });
  appendFileSync(join(FIGURES_DIR, `${suite}.jsonl`), `${line}\n`);
}
