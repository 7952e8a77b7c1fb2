// Every job's outcome, per source key: fault cases check that each key has exactly one result
// (none lost, none duplicated) and what that result is.

/** A result as `GET /v1/runs/:runId/results` lists it (the fields fault tests read). */
export interface ResultItem {
  jobId: string;
  status: 'completed' | 'failed';
  source: { bucket: string; key: string };
  submittedAt: number;
  finishedAt: number;
  attempts: number;
  error?: { reason: string; message: string };
  outputs?: { overlayKey: string; heatmapKey: string; resultKey: string; bucket: string };
}

/** Outcome counts of one run against the keys it was given. */
export interface Outcomes {
  expected: number;
  results: number;
  completed: number;
  failed: number;
  /** Keys with no result. */
  lost: string[];
  /** Keys with more than one result. */
  duplicated: string[];
  /** Results for keys the run was not given. */
  unexpected: string[];
  /** Failed results per reason. */
  failedReasons: Record<string, number>;
}

/** Counts `items` per source key against `keys`. */
export function countOutcomes(items: ResultItem[], keys: string[]): Outcomes {
  const perKey = new Map<string, number>();
  for (const item of items) perKey.set(item.source.key, (perKey.get(item.source.key) ?? 0) + 1);
  const expected = new Set(keys);
  const failedReasons: Record<string, number> = {};
  for (const item of items) {
    if (item.status !== 'failed') continue;
    const reason = item.error?.reason ?? '(none)';
    failedReasons[reason] = (failedReasons[reason] ?? 0) + 1;
  }
  return {
    expected: keys.length,
    results: items.length,
    completed: items.filter((i) => i.status === 'completed').length,
    failed: items.filter((i) => i.status === 'failed').length,
    lost: keys.filter((k) => !perKey.has(k)),
    duplicated: [...perKey].filter(([, n]) => n > 1).map(([k]) => k),
    unexpected: [...perKey.keys()].filter((k) => !expected.has(k)),
    failedReasons,
  };
}

/** True when every key has exactly one result and there are no others. */
export function exactlyOnce(o: Outcomes): boolean {
  return (
    o.lost.length === 0 &&
    o.duplicated.length === 0 &&
    o.unexpected.length === 0 &&
    o.results === o.expected
  );
}

/** The figures a case records about its outcomes. */
export function outcomeFigures(o: Outcomes) {
  return {
    jobs: o.expected,
    results: o.results,
    completed: o.completed,
    failed: o.failed,
    lost: o.lost.length,
    duplicated: o.duplicated.length,
  };
}
