// What `kproxy cleanup` asks of each mode: remove exactly what that mode installed, nothing
// else, and say what was removed.
export interface ModeCleanup {
  /** The commands a dry run prints. */
  plan(): string;
  /** Removes what the mode installed; one line per thing removed (none when nothing was there). */
  run(): Promise<string[]>;
}
