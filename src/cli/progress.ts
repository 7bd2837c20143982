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

/** Writes progress to stderr: in place on a terminal, one line per report otherwise. */
export class ProgressPrinter {
  private last = '';
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get interactive(): boolean {
    return !!this.stream.isTTY;
  }

  update(line: string): void {
    if (this.interactive) {
      const pad = Math.max(0, this.last.length - line.length);
      this.stream.write(`\r${line}${' '.repeat(pad)}`);
    } else {
      this.stream.write(line + '\n');
    }
    this.last = line;
  }

  /** End the in-place line so that later output starts on a fresh line. */
  done(): void {
    if (this.interactive && this.last) this.stream.write('\n');
    this.last = '';
  }
}
