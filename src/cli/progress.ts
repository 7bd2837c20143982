/**
 * Progress lines for long runs (MD, benchmarks, labelling, data generation): a text bar, rate and ETA. On a
 * terminal the line is redrawn in place; in a log file each report is its own line.
 */

/** 75 s → "1m15s", 4000 s → "1h06m"; "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "[#########...........]" for done out of total. */
export function progressBar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

export interface ProgressPrinterOptions {
  stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  /** Into a log file (not a terminal): at most one line per this many seconds (default 10)… */
  logSeconds?: number;
  /** …unless the work has moved on by this fraction since the last line (default 0.1). */
  logFraction?: number;
  /** Clock, ms; replaceable so that tests need not wait. */
  now?: () => number;
}

/**
 * Writes progress to stderr. On a terminal the line is redrawn in place (a carriage return, then
 * the line padded over the previous one). Into a file or pipe, carriage returns would make one
 * run-on line, so each report is a whole newline-terminated line instead, and only every
 * `logSeconds` or every `logFraction` of the work, plus the final one, so that a long run leaves
 * a readable log rather than thousands of lines. Every progress writer in src/cli goes through here.
 */
export class ProgressPrinter {
  private last = '';
  private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  private readonly logMs: number;
  private readonly logFraction: number;
  private readonly now: () => number;
  private lastLogAt = -Infinity;
  private lastLogFraction = -Infinity;

  constructor(options: ProgressPrinterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.logMs = (options.logSeconds ?? 10) * 1000;
    this.logFraction = options.logFraction ?? 0.1;
    this.now = options.now ?? (() => performance.now());
  }

  get interactive(): boolean {
    return !!this.stream.isTTY;
  }

  /**
   * Report `line`. `fraction` (0..1) is how far the work is, when known; `final` marks the last
   * report, which is always written and, on a terminal, ends the line.
   */
  update(line: string, progress: { fraction?: number; final?: boolean } = {}): void {
    if (this.interactive) {
      const pad = Math.max(0, this.last.length - line.length);
      this.stream.write(`\r${line}${' '.repeat(pad)}`);
      this.last = line;
      if (progress.final) this.done();
      return;
    }
    const t = this.now();
    const f = progress.fraction;
    const due =
      progress.final ||
      t - this.lastLogAt >= this.logMs ||
      (f !== undefined && f - this.lastLogFraction >= this.logFraction - 1e-12);
    if (!due) return;
    this.stream.write(line + '\n');
    this.lastLogAt = t;
    if (f !== undefined) this.lastLogFraction = f;
    if (progress.final) this.done();
  }

  /**
   * End the in-place line so that later output starts on a fresh line. The next report starts a
   * new task (e.g. the next system of a dataset), so its first line is written at once.
   */
  done(): void {
    if (this.interactive && this.last) this.stream.write('\n');
    this.last = '';
    this.lastLogAt = -Infinity;
    this.lastLogFraction = -Infinity;
  }
}
