// How long kproxy lets iptables-restore and iptables-save run, from the size of what they
// write or read. Measured on a 2-core machine, iptables-nft 1.8.x (docs/iptables.md):
//  - a full restore at 10,000 Services × 10 endpoints is ~430,000 lines (~43 per Service:
//    KUBE-SERVICES rule, KUBE-SVC chain with its masquerade and 10 endpoint rules, 10 KUBE-SEP
//    chains with 2 rules each); bare, it took ~26 s of CPU and ~105 s wall at load 20, i.e.
//    ~0.06 ms CPU and ~0.25 ms wall per line. The old fixed 120 s killed it every time.
//  - the restore grows faster than linearly with the chain count (5,000 × 10: 5.6 s CPU;
//    10,000 × 10: 26 s), so the allowance per line is 1 ms, 4× the loaded wall cost at 10,000:
//    that keeps a margin of ~1.2× even if the same growth goes on up to 30,000 × 10
//    (~1.3 million lines: 1,410 s allowed).
//  - iptables-save only lists (linear; `nft list table` at 10,000 Services takes 1.5–6.3 s):
//    0.25 ms per line of the table it reads.
// The floor (120 s, the old fixed limit) covers small inputs, partial syncs and `-w 5` lock
// waits; a hung command is killed after floor + allowance of its input, never later.
import { scaledTimeoutMs } from '../../util/scaled-timeout.js';

export const RESTORE_FLOOR_MS = 120_000;
export const RESTORE_MS_PER_LINE = 1;
export const SAVE_FLOOR_MS = 120_000;
export const SAVE_MS_PER_LINE = 0.25;
/**
 * The table size assumed when nothing tells it (`kproxy cleanup` in a fresh process): 2 million
 * lines, ~45,000 Services × 10 endpoints, which gives iptables-save 620 s.
 */
export const UNKNOWN_TABLE_LINES = 2_000_000;

/** Lines in a restore input (newline-terminated text). */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

/** The deadline of an iptables-restore of `lines` lines; at least floorMs. */
export function restoreTimeoutMs(lines: number, floorMs = RESTORE_FLOOR_MS): number {
  return scaledTimeoutMs(floorMs, RESTORE_MS_PER_LINE, lines);
}

/** The deadline of an iptables-save of a table expected to hold `lines` lines; at least floorMs. */
export function saveTimeoutMs(lines: number, floorMs = SAVE_FLOOR_MS): number {
  return scaledTimeoutMs(floorMs, SAVE_MS_PER_LINE, lines);
}
