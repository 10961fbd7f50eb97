/**
 * Progress and rate lines on stderr: redrawn in place on a terminal, one line per report
 * otherwise (so logs and CI output stay readable).
 */
import type { CliContext } from './context.ts';

export function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(value >= 100 ? 0 : 1);
}

export class StatusLine {
  private lastLength = 0;
  private lastShown = -Infinity;

  /** `minIntervalMs`: updates closer together than this are skipped (a terminal redraws faster). */
  constructor(
    private readonly ctx: CliContext,
    private readonly minIntervalMs = ctx.interactive ? 100 : 2000,
  ) {}

  /** `final`: the last report of a run (100%), shown even inside the interval. */
  update(text: string, final = false): void {
    const now = performance.now();
    if (!final && now - this.lastShown < this.minIntervalMs) return;
    this.lastShown = now;
    this.show(text);
  }

  private show(text: string): void {
    if (this.ctx.interactive) {
      const pad = Math.max(0, this.lastLength - text.length);
      this.ctx.stderr.write(`\r${text}${' '.repeat(pad)}`);
      this.lastLength = text.length;
    } else {
      this.ctx.stderr.write(`${text}\n`);
    }
  }

  /** A line of its own above the status line (which the next update redraws). */
  print(line: string): void {
    if (this.ctx.interactive && this.lastLength > 0) this.ctx.stderr.write('\r\x1b[2K');
    this.ctx.stderr.write(`${line}\n`);
    this.lastLength = 0;
  }

  done(text?: string): void {
    if (text !== undefined) this.show(text);
    if (this.ctx.interactive && this.lastLength > 0) this.ctx.stderr.write('\n');
    this.lastLength = 0;
  }
}

/** A progress bar such as `[#####.....] 52% 1.2M/2.3M bytes`. */
export function progressBar(done: number, total: number, width = 24): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
}
