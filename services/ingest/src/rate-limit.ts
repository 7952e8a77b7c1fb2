/**
 * A fixed-window request counter per caller, in memory: good enough to stop one runaway client
 * from flooding Redis through one ingest replica (each replica counts on its own).
 */
export class FixedWindowLimiter {
  private window = -1;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `id`; `retryAfterS` is set when it is over the limit. */
  take(id: string): { ok: boolean; retryAfterS: number } {
    const t = this.now();
    const w = Math.floor(t / this.windowMs);
    if (w !== this.window) {
      // A new window: forgetting every caller at once keeps the map bounded by active callers.
      this.window = w;
      this.counts.clear();
    }
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n <= this.max) return { ok: true, retryAfterS: 0 };
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(((w + 1) * this.windowMs - t) / 1000)) };
  }
}
