import { randomBytes } from 'node:crypto';
import type { EventRule } from '@camflow/contracts';

/**
 * A new run id: time-ordered, URL-safe and free of ':' (BullMQ job ids may not contain it; the
 * expansion job's id is the run id).
 */
export function newRunId(kind: 'run' | 'job'): string {
  const prefix = kind === 'run' ? 'run' : 'job';
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/**
 * The events run collecting a bucket's notifications of one UTC day: `events-<bucket>-<yyyymmdd>`
 * for the bucket's first rule, with `-r<n>` for its n-th rule (n >= 2): a run has one model and
 * method, and two rules of one bucket may name different ones.
 */
export function eventsRunId(rules: EventRule[], rule: EventRule, day: string): string {
  const n = rules.filter((r) => r.bucket === rule.bucket).indexOf(rule) + 1;
  return `events-${rule.bucket}-${day}${n > 1 ? `-r${n}` : ''}`;
}
