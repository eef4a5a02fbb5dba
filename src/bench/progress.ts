// A progress bar on stderr for the long parts, drawn only when stderr is a terminal; in a log
// (not a terminal) each finished step is one plain line instead.
export class Progress {
  private done = 0;
  private label = '';
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly quiet = false,
  ) {}

  /** What is being measured now, with a detail such as "full sync 1/3". */
  show(label: string): void {
    this.label = label;
    this.draw();
  }

  /** `steps` steps finished (one by default); `line` is what a log gets. */
  step(line: string, steps = 1): void {
    this.done += steps;
    if (this.quiet) return;
    if (this.tty) this.draw();
    else process.stderr.write(`bench: ${line}\n`);
  }

  finish(): void {
    if (this.tty && !this.quiet) process.stderr.write('\r\x1b[K');
  }

  private draw(): void {
    if (!this.tty || this.quiet) return;
    const width = 24;
    const filled = Math.round((width * this.done) / Math.max(1, this.total));
    const s = Math.round((Date.now() - this.started) / 1000);
    const elapsed = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${elapsed} ${this.label}`;
    const cols = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[K${text.slice(0, cols - 1)}`);
  }
}
