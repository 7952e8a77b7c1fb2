/** A one-line progress bar on stderr with rate and ETA (only when stderr is a terminal). */
export class ProgressBar {
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;
  private lastLine = '';
  private printedAt = 0;
  private ended = false;

  constructor(private readonly label: string) {}

  /** Redraws the bar: `done` of `total` (total may still grow while a listing runs). */
  update(done: number, total: number, note = ''): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 && total > done ? (total - done) / rate : 0;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line =
      `${this.label} [${bar}] ${done}/${total} ${(100 * frac).toFixed(0)}% ` +
      `${rate.toFixed(1)}/s ETA ${formatSeconds(eta)}${note ? ` ${note}` : ''}`;
    if (this.tty) process.stderr.write(`\r${line.padEnd(this.lastLine.length)}`);
    else if (done === total ? !this.ended : Date.now() - this.printedAt >= 10_000) {
      // A log, not a terminal: a line every 10 s and the last one, not one per update.
      process.stderr.write(`${line}\n`);
      this.printedAt = Date.now();
      this.ended = done === total;
    }
    this.lastLine = line;
  }

  /** Ends the line. */
  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return '0s';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
