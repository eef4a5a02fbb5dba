// Runs of plain `add chain FAMILY TABLE NAME` lines, stepped over whole by a lazy parse (the
// companion of rule-runs.ts: 12,800 of the 38,000 lines at 10,000 Services). A table's chains
// then live in a ChainMap: a Map that, asked for a chain it does not hold, searches the runs
// for its line and adds it. Anything that walks every chain gets them all added first. When
// a parse or a trace asks for many chains one by one, the runs are read into the map once
// (each search reads the runs; a full read is about as dear as 64 of them).
import type { Chain } from './ast.js';
import { NftSyntaxError } from './lexer.js';
import { findLine, lineOfOffset, type LineRun } from './rule-runs.js';

const WORD = '[^\\s;#\\\\"{}@$][^\\s;#\\\\"{}]*';
const FIRST = new RegExp(`add chain (?:ip|ip6|inet|arp|bridge|netdev) [^\\s;#\\\\"{}]+ ${WORD}\\n`, 'y');
const NOT_PLAIN = new RegExp(`\\n(?!add chain (?:ip|ip6|inet|arp|bridge|netdev) [^\\s;#\\\\"{}]+ ${WORD}\\n)`, 'g');
const SEARCHES_BEFORE_READING_ALL = 64;

/**
 * Where the run of plain chain lines starting at `at` (the start of a line) ends: the offset
 * of the newline ending its last line, or -1 when the line at `at` is not one.
 */
export function chainRunEnd(src: string, at: number): number {
  FIRST.lastIndex = at;
  if (!FIRST.test(src)) return -1;
  NOT_PLAIN.lastIndex = at;
  const bad = NOT_PLAIN.exec(src);
  return bad ? bad.index : -1; // FIRST matched a newline, so some newline ends the run
}

/** The chain runs of one text, shared by its tables' ChainMaps. */
export interface ChainRuns {
  list: LineRun[];
}

export class ChainMap extends Map<string, Chain> {
  private searches = 0;
  /** The runs before this one were read into the map, or hold none of its chains. */
  private firstUnread: number;

  constructor(
    private readonly runs: ChainRuns,
    /** "add chain FAMILY TABLE " */
    private readonly prefix: string,
  ) {
    super();
    // Runs before the table was made (by this command) cannot hold its chains.
    this.firstUnread = runs.list.length;
  }

  override get(name: string): Chain | undefined {
    return super.get(name) ?? this.search(name);
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  override get size(): number {
    this.readRuns();
    return super.size;
  }

  override values(): MapIterator<Chain> {
    this.readRuns();
    return super.values();
  }

  override keys(): MapIterator<string> {
    this.readRuns();
    return super.keys();
  }

  override entries(): MapIterator<[string, Chain]> {
    this.readRuns();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, Chain]> {
    return this.entries();
  }

  override forEach(fn: (value: Chain, key: string, map: Map<string, Chain>) => void, thisArg?: unknown): void {
    this.readRuns();
    super.forEach(fn, thisArg);
  }

  /** The chains made so far (found by a search, or not from a run). */
  made(): MapIterator<Chain> {
    return super.values();
  }

  /** The chain's first line in the runs, added to the map; undefined when it has none. */
  private search(name: string): Chain | undefined {
    const list = this.runs.list;
    if (this.firstUnread >= list.length) return undefined;
    if (++this.searches > SEARCHES_BEFORE_READING_ALL) {
      this.readRuns();
      return super.get(name);
    }
    const line = this.prefix + name + '\n';
    for (let r = this.firstUnread; r < list.length; r++) {
      const at = findLine(list[r], line, list[r].start);
      if (at >= 0) return this.add(name, list[r], at);
    }
    return undefined;
  }

  /** Adds every chain of the runs (in text order; those already here keep their line). */
  private readRuns(): void {
    const list = this.runs.list;
    for (; this.firstUnread < list.length; this.firstUnread++) {
      const run = list[this.firstUnread];
      const { src, end } = run;
      for (let at = run.start; at < end;) {
        const eol = src.indexOf('\n', at);
        if (src.startsWith(this.prefix, at)) {
          const name = src.substring(at + this.prefix.length, eol);
          if (!super.has(name)) this.add(name, run, at);
        }
        at = eol + 1;
      }
    }
  }

  private add(name: string, run: LineRun, at: number): Chain {
    const line = lineOfOffset(run, at);
    if (name.length > 256) throw new NftSyntaxError(line, `bad name "${name}"`);
    const chain: Chain = { name, base: null, rules: [], pending: [], comment: '', line };
    super.set(name, chain);
    return chain;
  }
}

/**
 * The chains already made, without reading the runs: enough to find base chains, since a
 * line in a run (`add chain F T NAME`, no body) never makes one.
 */
export function namedChains(chains: Map<string, Chain>): Iterable<Chain> {
  return chains instanceof ChainMap ? chains.made() : chains.values();
}
