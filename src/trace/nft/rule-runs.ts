// Runs of plain `add rule FAMILY TABLE CHAIN BODY` lines, stepped over whole by a lazy parse.
// Most of a large ruleset is such lines (25,000 of the 38,000 lines at 10,000 Services);
// looking at each one costs a cold `kproxy trace` more than everything else it does. A lazy
// parse finds where a run ends with two native regular-expression searches and counts its
// newlines, and nothing more. When a trace first reaches a chain, its lines are found by
// searching the runs for "add rule FAMILY TABLE CHAIN " at the start of a line.
//
// What a run may hold is narrow, so that searching by that prefix finds exactly the lines
// a line-by-line parse would give the chain: the family is spelled out, words are separated
// by one space, and the line has nothing that could hide or continue a statement (; # \ "
// { }) and no `position`/`handle`/`index`. Anything else ends the run and goes through the
// ordinary parser. Commands that take rules away again (flush, delete, destroy) after a
// run make the parser start over without runs (the answer would depend on order).
//
// Not checked by a lazy parse: lines in runs that no trace reaches (their chain may not even
// exist). `kproxy trace --check-all` (a full parse) checks every line.
import type { Chain, LineRun, RuleRuns, Table } from './ast.js';

export type { LineRun, RuleRuns };
import { NftSyntaxError } from './lexer.js';

/**
 * Offset (in the whole text) of the first line in [from, run end) that starts with `line`, or -1.
 * Searches the run's own stretch of text (a slice, not a copy): a search of the whole text
 * would read on to its end.
 */
export function findLine(run: LineRun, line: string, from: number): number {
  const rel = from - run.start;
  if (rel === 0 && run.src.startsWith(line, run.start)) return run.start;
  const text = (runText ??= new WeakMap()).get(run) ?? setText(run);
  const i = text.indexOf('\n' + line, rel);
  return i < 0 ? -1 : run.start + i + 1;
}
let runText: WeakMap<LineRun, string> | undefined;
function setText(run: LineRun): string {
  const text = run.src.substring(run.start, run.end + 1); // with the newline that ends the last line
  runText!.set(run, text);
  return text;
}

type Pending = Chain['pending'][number];

const WORD = '[^\\s;#\\\\"{}]+';
// A newline not followed by a line a run may hold.
const NOT_PLAIN = new RegExp(`\\n(?!add rule (?:ip|ip6|inet|arp|bridge|netdev) ${WORD} ${WORD} (?!(?:position|handle|index)(?![^\\s;#\\\\"{}]))[^\\s;#\\\\"{}])`, 'g');
const SPECIAL = /[;#\\"{}]/;
const FIRST = new RegExp(`add rule (?:ip|ip6|inet|arp|bridge|netdev) ${WORD} ${WORD} (?!(?:position|handle|index)(?![^\\s;#\\\\"{}]))[^\\s;#\\\\"{}]`, 'y');

/**
 * Where the run of plain rule lines starting at `at` (the start of a line) ends: the offset of
 * the newline after its last line, or of the end of the text; -1 when the line at `at` is not
 * plain. A run is cut before the first line holding one of ; # \ " { }.
 */
export function runEnd(src: string, at: number): number {
  FIRST.lastIndex = at;
  if (!FIRST.test(src)) return -1;
  NOT_PLAIN.lastIndex = at;
  const bad = NOT_PLAIN.exec(src);
  let end = bad ? bad.index : src.length;
  const special = src.substring(at, end).search(SPECIAL);
  if (special >= 0) end = src.lastIndexOf('\n', at + special);
  return end > at ? end : -1;
}

/** The offsets of the newlines in src[from, to). */
export function newlinesIn(src: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = src.indexOf('\n', from); i >= 0 && i < to; i = src.indexOf('\n', i + 1)) out.push(i);
  return out;
}

/**
 * The chain's lines in the runs (once per chain), as pending rules, in text order. A line
 * written before its chain (or table) existed is the error a line-by-line parse reports.
 */
export function runLinesOf(runs: RuleRuns, table: Table, chain: Chain): Pending[] {
  if (runs.searched.has(chain)) return [];
  runs.searched.add(chain);
  const prefix = `add rule ${table.family} ${table.name} ${chain.name} `;
  const out: Pending[] = [];
  for (const run of runs.list) {
    if (run.line < table.line) continue; // lines of a table deleted before this one was made
    const { src, start, end } = run;
    let at = findLine(run, prefix, start);
    while (at >= 0) {
      let eol = src.indexOf('\n', at);
      if (eol < 0 || eol > end) eol = end;
      const line = lineOfOffset(run, at);
      if (run.line < chain.line) throw new NftSyntaxError(line, `chain ${chain.name} does not exist in table ${table.family} ${table.name}`);
      out.push({ src, start: at + prefix.length - 1, end: eol, line, front: false });
      at = eol < end ? findLine(run, prefix, eol) : -1;
    }
  }
  return out;
}

/** The line number of the line starting at `at` in the run. */
export function lineOfOffset(run: LineRun, at: number): number {
  // Lines before `at` = newlines before it (binary search).
  const nl = run.newlines;
  let lo = 0;
  let hi = nl.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nl[mid] < at) lo = mid + 1;
    else hi = mid;
  }
  return run.line + lo;
}
