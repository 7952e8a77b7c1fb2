// Case outcomes of a reliability suite, one JSON line per case in .camflow/reliability/<suite>.jsonl
// (a generator turns them into docs/RELIABILITY.md). Each test file owns one suite's file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One case: what was expected, what happened, and whether they agree. */
export interface Outcome {
  suite: string;
  case: string;
  expected: string;
  observed: string;
  pass: boolean;
}

const DIR = join(import.meta.dirname, '../../../.camflow/reliability');

/** Collects a suite's outcomes; `write()` replaces the suite's file (in afterAll). */
export class Outcomes {
  private readonly rows = new Map<string, Outcome>();

  constructor(readonly suite: string) {}

  /** Records a case (the last record of a case name wins) and returns whether it passed. */
  record(name: string, expected: string, observed: string, pass = expected === observed): boolean {
    this.rows.set(name, { suite: this.suite, case: name, expected, observed, pass });
    return pass;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Writes every recorded case, in recording order. */
  write(): string {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, `${this.suite}.jsonl`);
    const lines = [...this.rows.values()].map((r) => JSON.stringify(r));
    writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
    return file;
  }
}
