// The full sync's text and the committed state it leaves, in one pass over the service ports.
// The text is exactly what renderTable prints for the same tables (`kproxy rules`; a test
// holds them equal), in the same order: the table, its sets, its chains, its rules (global,
// shared pick chains, then each service port's in key order), then every element a few
// hundred per line. Each port is compiled once; its lines and elements go to text builders
// and its compiled form is dropped at once: what is kept is which ports own elements in each
// scope (ClaimIndex), the names, and the model's own ServicePortState (partial syncs compile
// a port again when it changes). Keeping no more is what makes a full sync cheap: at 10,000
// Services the young-generation collector copying what survives was a third of its cost,
// and an index of every element another sixth.
import type { Config } from '../../config/types.js';
import type { ProxyState, ServicePortState } from '../../model/types.js';
import type { ElementSink } from './port.js';
import { compileServicePort, familyContext, FAMILIES, globalChains, globalElements, globalSets, portsOf } from './compile.js';
import { ClaimIndex } from './elements.js';
import type { Committed } from './committed.js';
import type { FamilyContext } from './context.js';
import { tableHeader, tableRef, type ChainDecl, type NftFamily, type SetDecl } from './ruleset.js';
import { ByteText } from '../../util/byte-text.js';
import { SlabArena } from '../../util/slab-arena.js';

const ELEMENTS_PER_LINE = 500;
/** An empty chunk: where a sliced render may pause. */
const PAUSE = Buffer.alloc(0);

/**
 * The full sync's text, as UTF-8 bytes in chunks. `plan` receives the line count and the new
 * committed state. `previous` null: replace the tables; else rewrite them in place (keeping
 * the affinity sets' live entries) and delete what is no longer there. `arena`: where the
 * chunks' memory comes from (the caller recycles it once the chunks are written out).
 */
export async function* fullSyncText(
  state: ProxyState,
  config: Config,
  previous: ReadonlyMap<NftFamily, Committed> | null,
  plan: { lines: number; committed: Map<NftFamily, Committed> },
  arena?: SlabArena,
): AsyncGenerator<Buffer> {
  for (const family of FAMILIES) {
    const fc = familyContext(family, config, state.node);
    yield* tableText(family, fc, portsOf(state, fc.ipFamily), previous, plan, arena);
  }
}

/**
 * The text a replacing full sync of these tables would send, which is what `kproxy rules`
 * prints for them (the /rules page of what is committed). `ports` in any order. Uses the
 * full sync's one-pass writer: about a third of the CPU of compiling every port into
 * PortRules and rendering them through an ElementIndex.
 */
export function replaceText(tables: readonly ReplacedTable[]): string {
  return Buffer.concat([...replaceChunks(tables)]).toString('utf8');
}

export interface ReplacedTable {
  family: NftFamily;
  fc: FamilyContext;
  ports: readonly ServicePortState[];
}

/**
 * replaceText in chunks of UTF-8 bytes, for a caller that renders a little at a time (the
 * /rules page): with `slice`, an empty chunk after every `slice` ports compiled, where it may
 * pause.
 */
export function* replaceChunks(tables: readonly ReplacedTable[], slice = 0): Generator<Buffer> {
  const plan = { lines: 0, committed: new Map<NftFamily, Committed>() };
  for (const { family, fc, ports } of tables) {
    const sorted = [...ports].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // No arena: the page may keep these bytes as long as it likes.
    yield* tableText(family, fc, sorted, null, plan, undefined, slice);
  }
}

/**
 * One table's part of a full sync; `ports` in key order. The ports are written by a
 * TableWriter's plain loop, a slice at a time: this generator only orders the pieces and
 * runs a few times per sync. Why: V8 optimizes a function whose loop turns 10,000 times, and
 * a generator with the whole writer inlined took it 0.3 s of background CPU to compile, more
 * than once per process (it was thrown away when an object's shape changed between syncs);
 * that compile landed in every other sync's CPU.
 */
function* tableText(
  family: NftFamily,
  fc: FamilyContext,
  ports: readonly ServicePortState[],
  previous: ReadonlyMap<NftFamily, Committed> | null,
  plan: { lines: number; committed: Map<NftFamily, Committed> },
  arena: SlabArena | undefined,
  slice = 0,
): Generator<Buffer> {
  const w = new TableWriter(family, fc, previous === null, arena);
  const step = slice > 0 ? slice : ports.length;
  for (let from = 0; from < ports.length; from += step) {
    if (from > 0) yield PAUSE;
    w.ports(ports, from, Math.min(from + step, ports.length));
  }
  yield* w.finish(previous?.get(family), plan);
}

/**
 * Writes one table's text: each port's sets, chains and rules as it is compiled, and its
 * elements straight from the compiler (ElementSink: no ElementRef per element); then the
 * table's head, the shared pick chains and the elements, in renderTable's order.
 */
class TableWriter implements ElementSink {
  private readonly t: string;
  private readonly c: Committed;
  private readonly sets: readonly SetDecl[];
  private readonly chains: readonly ChainDecl[];
  private readonly elements: ElementText;
  /** Scopes that two ports share: the elements written in them so far (set NUL key). */
  private readonly contested = new Map<string, Set<string>>();
  private readonly portSets: ByteText;
  private readonly portChains: ByteText;
  private readonly portRules: ByteText;
  private readonly shared = new Map<string, ChainDecl>();
  // A port's elements come in runs of one scope (its ClusterIP, then each endpoint...), and
  // claiming a scope again for the same port gives the same answer: only a new scope is
  // looked up.
  private owner = '';
  private lastScope = '';
  private earlier: readonly string[] = [];

  constructor(
    private readonly family: NftFamily,
    private readonly fc: FamilyContext,
    private readonly replace: boolean,
    private readonly arena: SlabArena | undefined,
  ) {
    this.t = tableRef(family);
    this.sets = globalSets(fc);
    this.chains = globalChains(fc);
    this.c = {
      fc,
      claims: new ClaimIndex(),
      ports: new Map(),
      globalChains: new Set(this.chains.map((ch) => ch.name)),
      sharedChains: new Set(),
      globalSets: new Set(this.sets.map((s) => s.name)),
      portChains: new Set(),
      portSets: new Set(),
    };
    this.elements = new ElementText(this.t, arena);
    const globals = new Set<string>();
    for (const e of globalElements(fc)) if (!globals.has(id(e.set, e.key)) && globals.add(id(e.set, e.key))) this.elements.add(e.set, e.key, '', e.value, '');
    this.portSets = new ByteText({ arena });
    this.portChains = new ByteText({ arena });
    this.portRules = new ByteText({ arena });
  }

  /** Compiles and writes ports[from..to). */
  ports(ports: readonly ServicePortState[], from: number, to: number): void {
    const { t, c } = this;
    for (let i = from; i < to; i++) {
      const sp = ports[i];
      this.owner = sp.key;
      this.lastScope = '';
      c.ports.set(sp.key, sp);
      const p = compileServicePort(sp, this.fc, this);
      for (const s of p.sets) {
        setLine(this.portSets, t, s);
        c.portSets.add(s.name);
      }
      for (const ch of p.chains) {
        chainLine(this.portChains, t, ch);
        c.portChains.add(ch.name);
        for (const r of ch.rules) ruleLine(this.portRules, t, ch.name, r);
      }
      for (const ch of p.shared) if (!this.shared.has(ch.name)) this.shared.set(ch.name, ch);
    }
  }

  element(scope: string, set: string, key: string, keyTail: string, value: string, valueTail: string): void {
    if (scope !== this.lastScope) {
      this.earlier = this.c.claims.claim(scope, this.owner);
      this.lastScope = scope;
    }
    if (this.earlier.length === 0) {
      this.elements.add(set, key, keyTail, value, valueTail); // alone in its scope so far, and a port claims a key once
      return;
    }
    // A scope shared with earlier ports (a multi-port Service's ClusterIP, an external IP
    // two Services list): the first claim of a key wins. The earlier owners' keys are
    // collected when the scope is first found shared, by compiling them again (rare).
    let taken = this.contested.get(scope);
    if (!taken) {
      this.contested.set(scope, (taken = new Set()));
      for (const o of this.earlier) for (const x of compileServicePort(this.c.ports.get(o)!, this.fc).elements) if (x.scope === scope) taken.add(id(x.set, x.key));
    }
    const k = id(set, key + keyTail);
    if (taken.has(k)) return;
    taken.add(k);
    this.elements.add(set, key, keyTail, value, valueTail);
  }

  /** The table's text after its ports, in chunks; records the committed state in `plan`. */
  finish(old: Committed | undefined, plan: { lines: number; committed: Map<NftFamily, Committed> }): Buffer[] {
    const { t, c, replace } = this;
    const pick = [...this.shared.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ch of pick) c.sharedChains.add(ch.name);
    const out: Buffer[] = [];
    const head = new ByteText({ arena: this.arena });
    for (const l of tableHeader(this.family, replace)) head.end(l);
    if (!replace) head.end(`flush table ${t}`);
    for (const s of this.sets) {
      setLine(head, t, s);
      if (!replace) head.end(`flush ${s.kind} ${t} ${s.name}`);
    }
    out.push(...head.take(), ...this.portSets.take());
    for (const ch of this.chains) chainLine(head, t, ch);
    for (const ch of pick) chainLine(head, t, ch);
    out.push(...head.take(), ...this.portChains.take());
    for (const ch of this.chains) for (const r of ch.rules) ruleLine(head, t, ch.name, r);
    for (const ch of pick) for (const r of ch.rules) ruleLine(head, t, ch.name, r);
    out.push(...head.take(), ...this.portRules.take());
    plan.lines += head.lines + this.portSets.lines + this.portChains.lines + this.portRules.lines;
    out.push(...this.elements.take());
    const tail = new ByteText({ arena: this.arena });
    if (old) for (const l of staleDeletes(t, old, c)) tail.end(l);
    out.push(...tail.take());
    plan.lines += tail.lines + this.elements.lines;
    plan.committed.set(this.family, c);
    return out;
  }
}

function setLine(b: ByteText, t: string, s: SetDecl): void {
  b.add('add ');
  b.add(s.kind);
  b.add(' ');
  b.add(t);
  b.add(' ');
  b.add(s.name);
  b.add(' { ');
  b.add(s.body);
  b.end(' }');
}

function chainLine(b: ByteText, t: string, c: ChainDecl): void {
  b.add('add chain ');
  b.add(t);
  b.add(' ');
  b.add(c.name);
  if (c.hook) {
    b.add(' { ');
    b.add(c.hook);
    b.add(' }');
  }
  b.end('');
}

function ruleLine(b: ByteText, t: string, chain: string, rule: string): void {
  b.add('add rule ');
  b.add(t);
  b.add(' ');
  b.add(chain);
  b.add(' ');
  b.end(rule);
}

/** After an in-place full rewrite: delete the chains and sets that no longer exist. */
function staleDeletes(t: string, old: Committed, now: Committed): string[] {
  const out: string[] = [];
  const gone = new Set<string>();
  for (const names of [old.globalChains, old.sharedChains, old.portChains]) {
    for (const name of names) if (!now.globalChains.has(name) && !now.sharedChains.has(name) && !now.portChains.has(name)) gone.add(name);
  }
  for (const name of gone) out.push(`delete chain ${t} ${name}`);
  // Global maps are deleted with `delete map`, sets with `delete set`; only sets can go stale
  // in practice (affinity sets, nodeport-ips) and nft accepts `delete set` for both.
  const seen = new Set<string>();
  for (const names of [old.globalSets, old.portSets]) {
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (!now.globalSets.has(name) && !now.portSets.has(name)) out.push(`delete set ${t} ${name}`);
    }
  }
  return out;
}

const id = (set: string, key: string) => set + '\u0000' + key;

/**
 * The `add element` lines, a few hundred elements per line, set by set in the order the sets
 * are first met and each set's elements in the order they are added (as ElementIndex
 * renders them for `kproxy rules`).
 */
class ElementText {
  private readonly sets = new Map<string, { text: ByteText; n: number }>();

  constructor(
    private readonly table: string,
    private readonly arena: SlabArena | undefined,
  ) {}

  // A port's elements come a few to one set in a row (one per endpoint): the last set is kept.
  private lastName = '';
  private last: { text: ByteText; n: number } | undefined;

  /** The element key + keyTail, with " : " value + valueTail unless value is "" (a set). */
  add(set: string, key: string, keyTail: string, value: string, valueTail: string): void {
    let s = set === this.lastName ? this.last : this.sets.get(set);
    if (!s) this.sets.set(set, (s = { text: new ByteText({ arena: this.arena }), n: 0 }));
    this.lastName = set;
    this.last = s;
    const b = s.text;
    if (s.n % ELEMENTS_PER_LINE === 0) {
      if (s.n > 0) b.end(' }');
      b.add('add element ');
      b.add(this.table);
      b.add(' ');
      b.add(set);
      b.add(' { ');
    } else b.add(', ');
    b.add(key);
    b.add(keyTail);
    if (value !== '') {
      b.add(' : ');
      b.add(value);
      b.add(valueTail);
    }
    s.n++;
  }

  get lines(): number {
    let n = 0;
    for (const s of this.sets.values()) n += s.text.lines;
    return n;
  }

  /** Every line, in chunks; ends each set's last line. */
  take(): Buffer[] {
    const out: Buffer[] = [];
    for (const s of this.sets.values()) {
      if (s.n > 0) s.text.end(' }');
      out.push(...s.text.take());
    }
    return out;
  }
}
