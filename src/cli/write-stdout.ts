// Writes a command's answer to stdout with blocking writes on file descriptor 1 instead of
// through process.stdout. On a pipe or a terminal, the first use of process.stdout loads
// Node's net and stream modules and makes a socket: ~2 ms of a cold `kproxy trace`, whose
// answer is all it writes. Nothing writes to stdout before the answer, so the order stays.
// A stdout that would block (EAGAIN, non-blocking) or fails gets the rest through
// process.stdout, which then waits, or fails, as it always did.
import { writeSync } from 'node:fs';

export function writeStdout(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch {
    process.stdout.write(bytes.subarray(done));
  }
}
