// Reads a saved ruleset for `kproxy trace --ruleset`. Rulesets are ASCII nearly always (names
// and comments come from Kubernetes object names); for ASCII bytes a Latin-1 decode gives
// the same text as UTF-8 at about half the cost, which a cold start of a 10 MB ruleset
// notices (~55 ms of CPU). Anything else is decoded as UTF-8.
import { isAscii } from 'node:buffer';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export function readRulesetText(file: string): string {
  const bytes = readFileSync(file);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** Where a piece may end: before a line that starts a new `add` command. */
const NEXT_COMMAND = Buffer.from('\nadd ', 'latin1');

/**
 * The same text as readRulesetText, in pieces (joined, they are the text) that each end just
 * before a line starting with "add " (never after a line ending in a backslash, which would
 * continue onto it). Why: in a fresh process every page of new memory costs (~12 µs each on
 * the machines measured), and reading a 10 MB file whole pays for 20 MB of it, the bytes and
 * the string. Read through one reused buffer, only the pieces' strings are new: ~30 ms less
 * at 10,000 Services. A lazy nft parse reads the pieces one after the other (parser.ts), which
 * falls back to the joined text when a statement runs on from one piece into the next.
 * Text that is not ASCII, or has no place to cut within `pieceBytes`, comes back whole.
 */
export function readRulesetPieces(file: string, pieceBytes = 2 << 20): string[] {
  const fd = openSync(file, 'r');
  try {
    const pieces: string[] = [];
    const buf = Buffer.allocUnsafeSlow(pieceBytes);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      filled += n;
      if (n === 0) {
        if (filled === 0) break;
        if (!isAscii(buf.subarray(0, filled))) return [readRulesetText(file)];
        pieces.push(buf.toString('latin1', 0, filled));
        break;
      }
      if (filled < buf.length) continue; // a short read: fill the buffer first
      let cut = buf.lastIndexOf(NEXT_COMMAND, filled - NEXT_COMMAND.length);
      while (cut > 0 && buf[cut - 1] === 0x5c /* \ */) cut = buf.lastIndexOf(NEXT_COMMAND, cut - 1);
      // No place to cut in a whole buffer (not an nft transaction, such as an iptables-save
      // text, or a very long line): read it whole.
      if (cut <= 0) return [readRulesetText(file)];
      const end = cut + 1; // with the newline
      if (!isAscii(buf.subarray(0, end))) return [readRulesetText(file)];
      pieces.push(buf.toString('latin1', 0, end));
      buf.copyWithin(0, end, filled);
      filled -= end;
    }
    return pieces;
  } finally {
    closeSync(fd);
  }
}
