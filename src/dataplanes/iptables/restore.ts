// Renders compiled rules as iptables-restore input. With --noflush, a chain declared with
// ":CHAIN - [0:0]" is created or flushed and the rest of the table is left alone, so a sync
// declares exactly the chains it rewrites: the top-level KUBE-* chains (on a partial sync only
// those whose rules changed), and the per-service chains of the ports being written (all on a
// full sync, the changed ones on a partial sync). Chains that no longer exist are declared
// (flushed) and then deleted with -X.
import type { FamilyContext, FamilyRuleset, PortRules } from './compile.js';
import { CANARY, jumpRuleText, type JumpRule } from './jumps.js';
import { CT_STATE_INVALID_DROPPED } from './nfacct.js';
import { ByteText, byteLength, textOf } from '../../util/byte-text.js';
import { drain } from '../../util/steps.js';

/** Kept in sync with kubelet's chain of the same name; written only with localhost NodePorts. */
export const KUBELET_FIREWALL = 'KUBE-FIREWALL';

export interface RenderOptions {
  /** Ports whose own chains are written; undefined = all (full sync). */
  write?: (p: PortRules) => boolean;
  /** Per-service chains to delete (flushed first, then -X). */
  deleteChains?: readonly string[];
  /** Jump rules to insert into the built-in chains (full syncs: those not there yet). */
  jumps?: readonly JumpRule[];
  /** Declare the KUBE-PROXY-CANARY chains (full syncs). */
  canary?: boolean;
  /** Empty mangle chains to declare as well: the route_localnet record (apply.ts). */
  mangleChains?: readonly string[];
  /** The top-level chains as last committed ("table/chain" → rules joined by newlines): unchanged ones are not written. */
  previousTop?: ReadonlyMap<string, string>;
  /** The iptables-nft backend: above WHOLE_TABLE_CACHE_CHAINS chains, start nat with `-S`. */
  wholeTableCache?: boolean;
}

/** The filter table's static rules. */
function filterStatic(fc: FamilyContext): { firewall: string[]; forward: string[] } {
  const firewall: string[] = [];
  if (fc.kubeletFirewall) {
    firewall.push(`-A ${KUBELET_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }
  const forward: string[] = [];
  // Without nf_conntrack_tcp_be_liberal, out-of-window packets are INVALID and would
  // otherwise reach a pod un-NATed and reset the connection.
  // The drops are counted (nfacct.ts) when the counter exists.
  if (!fc.tcpBeLiberal) {
    const count = fc.nfacct.has(CT_STATE_INVALID_DROPPED) ? ` -m nfacct --nfacct-name ${CT_STATE_INVALID_DROPPED}` : '';
    forward.push(`-A KUBE-FORWARD -m conntrack --ctstate INVALID${count} -j DROP`);
  }
  forward.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${fc.mark}/${fc.mark} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  return { firewall, forward };
}

function natStatic(fc: FamilyContext): string[] {
  return [
    `-A KUBE-POSTROUTING -m mark ! --mark ${fc.mark}/${fc.mark} -j RETURN`,
    // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${fc.mark}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${fc.mark}`,
  ];
}

/** The NodePort dispatch; it must stay the last rule of nat KUBE-SERVICES. */
function nodePortDispatch(fc: FamilyContext): string[] {
  const c = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (fc.nodePortIPs === null) {
    let dst = '-m addrtype --dst-type LOCAL';
    // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
    if (fc.family === 'IPv6') dst += ' ! -d ::1/128';
    else if (!fc.localhostNodePorts) dst += ' ! -d 127.0.0.0/8';
    return [`-A KUBE-SERVICES ${c} ${dst} -j KUBE-NODEPORTS`];
  }
  const out: string[] = [];
  for (const ip of fc.nodePortIPs) {
    const loopback = ip === '::1' || ip.startsWith('127.');
    if (loopback && !fc.localhostNodePorts) continue;
    out.push(`-A KUBE-SERVICES ${c} -d ${ip} -j KUBE-NODEPORTS`);
  }
  return out;
}

/**
 * Above this many per-service chains in one input, the nat table starts with a `-S` command.
 * iptables-nft-restore --noflush (1.8.x) remembers every chain a command names in a sorted
 * linked list, scanned from its head, so that it fetches only those chains from the kernel:
 * one scan per command makes a full sync quadratic in the number of chains (at 5,000 Services
 * × 10 endpoints, over 100 s of CPU instead of 6). A command that names no chain switches that
 * list off for the rest of the table and the whole table is fetched once instead; `-S` (list
 * the table) is the only such command that changes nothing. Its listing goes to stdout, which
 * the applier discards. Only for that backend: iptables-legacy-restore reads the whole table
 * anyway, and a listing in the middle of its input loses the chains declared before it.
 */
export const WHOLE_TABLE_CACHE_CHAINS = 1000;

/** One family's top-level chains and their rules, keyed "table/chain" (in writing order). */
export function topLevelRules(rs: FamilyRuleset): Map<string, string[]> {
  return drain(topLevelSteps(rs, Infinity));
}

/** topLevelRules as steps (src/util/steps.ts): a step ends after every `slice` ports looked at. */
export function* topLevelSteps(rs: FamilyRuleset, slice: number): Generator<void, Map<string, string[]>> {
  const { fc, ports } = rs;
  const fs = filterStatic(fc);
  const top = new Map<string, string[]>();
  function* collect(pick: (p: PortRules) => string[]): Generator<void, string[]> {
    const out: string[] = [];
    for (let i = 0; i < ports.length;) {
      i = gather(out, ports, pick, i, Math.min(i + slice, ports.length));
      if (i % slice === 0) yield;
    }
    return out;
  }
  top.set('filter/KUBE-NODEPORTS', yield* collect((p) => p.filter.nodePorts));
  top.set('filter/KUBE-SERVICES', yield* collect((p) => p.filter.services));
  top.set('filter/KUBE-EXTERNAL-SERVICES', yield* collect((p) => p.filter.externalServices));
  top.set('filter/KUBE-FORWARD', fs.forward);
  top.set('filter/KUBE-PROXY-FIREWALL', yield* collect((p) => p.filter.firewall));
  if (fc.kubeletFirewall) top.set(`filter/${KUBELET_FIREWALL}`, fs.firewall);
  // Ordered by jump target, descending: a partial sync that rewrites these chains names
  // every KUBE-SVC-… chain once, and in this order iptables-nft's sorted list of named
  // chains (see WHOLE_TABLE_CACHE_CHAINS) finds each new name at its head. The rules match
  // distinct destinations, so their order does not change what a packet hits.
  top.set('nat/KUBE-NODEPORTS', byTargetDescending(yield* collect((p) => p.nat.nodePorts)));
  yield;
  top.set('nat/KUBE-SERVICES', [...byTargetDescending(yield* collect((p) => p.nat.services)), ...nodePortDispatch(fc)]);
  yield;
  const natFixed = natStatic(fc);
  top.set(
    'nat/KUBE-MARK-MASQ',
    natFixed.filter((r) => r.startsWith('-A KUBE-MARK-MASQ ')),
  );
  top.set(
    'nat/KUBE-POSTROUTING',
    natFixed.filter((r) => r.startsWith('-A KUBE-POSTROUTING ')),
  );
  return top;
}

/** The jump target: the word after the last " -j ". */
function targetOf(rule: string): string {
  const at = rule.lastIndexOf(' -j ') + 4;
  const end = rule.indexOf(' ', at);
  return end < 0 ? rule.slice(at) : rule.slice(at, end);
}

function byTargetDescending(rules: string[]): string[] {
  return rules
    .map((r, i) => ({ r, i, t: targetOf(r) }))
    .sort((a, b) => (a.t > b.t ? -1 : a.t < b.t ? 1 : a.i - b.i))
    .map((x) => x.r);
}

/** A restore input and what it holds, counted while it was written. */
export interface RenderedFamily {
  /** The input as byte segments, in order (what the restore's stdin gets). */
  parts: readonly Uint8Array[];
  bytes: number;
  /** The input as one string (decoded when asked for). */
  readonly text: string;
  lines: number;
  /** "-A" rules per table (kubeproxy_sync_proxy_rules_iptables_last). */
  filterRules: number;
  natRules: number;
}

/**
 * iptables-restore input for one family's tables (filter, then nat). A top-level chain whose
 * rules equal `previousTop`'s (what the last sync committed) is left out, and a table with
 * nothing to write is left out; the result is "" when nothing at all changed.
 */
export function renderFamily(rs: FamilyRuleset, opts: RenderOptions = {}, top = topLevelRules(rs)): string {
  return renderFamilyCounted(rs, opts, top).text;
}

export function renderFamilyCounted(rs: FamilyRuleset, opts: RenderOptions = {}, top = topLevelRules(rs)): RenderedFamily {
  // A full sync's room for the declarations (~14 chains per port) and top-level rules; its body comes in whole.
  const out = new ByteText({ sizeHint: renderSizeHint(rs, opts) });
  const { filterRules, natRules } = drain(renderSteps(rs, opts, top, out, Infinity));
  const lines = out.lines;
  const parts = out.take();
  let text: string | undefined;
  return {
    parts,
    bytes: byteLength(parts),
    get text() {
      return (text ??= textOf(parts));
    },
    lines,
    filterRules,
    natRules,
  };
}

/** Room for a render's own lines: a full sync's declarations (~14 chains per port) and top-level rules; its body comes in whole. */
export const renderSizeHint = (rs: FamilyRuleset, opts: RenderOptions): number => 64 * 1024 + (opts.write ? 0 : 700 * rs.ports.length);

/**
 * The restore input, written into `out`, as steps (src/util/steps.ts): the one render of both
 * the syncs (run straight through) and the /rules page (which takes what `out` holds at the
 * end of each step, and may pause there). A step ends after about `slice` ports' worth of
 * lines. The result is the "-A" rules written per table.
 */
export function* renderSteps(rs: FamilyRuleset, opts: RenderOptions, top: ReadonlyMap<string, string[]>, out: ByteText, slice: number): Generator<void, { filterRules: number; natRules: number }> {
  const { ports } = rs;
  // About the lines `slice` ports declare (~14 chains each).
  const every = slice * 16;
  let due = out.lines + every;
  let filterRules = 0;
  let natRules = 0;
  const changed = (key: string, rules: string[]) => {
    const before = opts.previousTop?.get(key);
    return before === undefined || before !== rules.join('\n');
  };
  const jumps = (table: string) => {
    // Inserted in kube-proxy's order, each at the top, so they end up in its order too.
    for (const j of opts.jumps ?? []) if (j.table === table) out.end(jumpRuleText(j, '-I'));
  };
  const hasJumps = (table: string) => (opts.jumps ?? []).some((j) => j.table === table);
  const tableTop = (table: string) => [...top].filter(([k, rules]) => k.startsWith(table + '/') && changed(k, rules)).map(([k, rules]) => ({ chain: k.slice(table.length + 1), rules }));
  const decl = (name: string) => declare(out, name);

  const mangle = opts.mangleChains ?? [];
  if (opts.canary || mangle.length > 0) {
    out.end('*mangle');
    if (opts.canary) decl(CANARY);
    for (const c of mangle) decl(c);
    out.end('COMMIT');
  }

  const filter = tableTop('filter');
  if (filter.length > 0 || opts.canary || hasJumps('filter')) {
    out.end('*filter');
    for (const c of filter) decl(c.chain);
    if (opts.canary) decl(CANARY);
    jumps('filter');
    for (const c of filter) {
      for (let i = 0; i < c.rules.length;) {
        i = writeLines(out, c.rules, i, due);
        if (out.lines >= due) {
          due = out.lines + every;
          yield;
        }
      }
    }
    for (const c of filter) filterRules += c.rules.length;
    out.end('COMMIT');
  }

  const nat = tableTop('nat');
  // A full sync compiled every port straight into `rs.body`; otherwise each port kept its rules.
  const body = opts.write ? undefined : rs.body;
  const written = opts.write ? ports.filter(opts.write) : ports;
  const deleted = opts.deleteChains ?? [];
  let serviceChains = deleted.length;
  for (const p of written) serviceChains += p.chains.length;
  if (nat.length > 0 || serviceChains > 0 || opts.canary || hasJumps('nat')) {
    out.end('*nat');
    for (const c of nat) decl(c.chain);
    if (opts.canary) decl(CANARY);
    jumps('nat');
    if (opts.wholeTableCache && serviceChains > WHOLE_TABLE_CACHE_CHAINS) out.end('-S');
    for (let i = 0; i < written.length;) {
      i = declarePorts(out, written, i, due);
      if (out.lines >= due) {
        due = out.lines + every;
        yield;
      }
    }
    for (const c of deleted) decl(c);
    for (const c of nat) {
      for (let i = 0; i < c.rules.length;) {
        i = writeLines(out, c.rules, i, due);
        if (out.lines >= due) {
          due = out.lines + every;
          yield;
        }
      }
    }
    for (const c of nat) natRules += c.rules.length;
    if (body) out.append(body.parts, body.lines);
    else for (const p of written) for (const r of p.rules) out.end(r);
    for (const p of written) natRules += p.ruleCount;
    for (const c of deleted) {
      out.add('-X ');
      out.end(c);
    }
    out.end('COMMIT');
  }
  return { filterRules, natRules };
}

// The loops over every line and every chain declaration are small functions of their own, out
// of the generator above: V8 then optimises a few lines each, quickly, where it otherwise
// compiled the whole generator (over 100 ms of its compiler's time at 1,000 Services, and
// again after each deoptimisation), which is called only twice per sync.

/** ":NAME - [0:0]": the chain is created, or flushed if it exists. */
function declare(out: ByteText, name: string): void {
  out.add(':');
  out.add(name);
  out.end(' - [0:0]');
}

/** Writes lines[from…] until the text reaches `due` lines; returns the index of the next line. */
function writeLines(out: ByteText, lines: readonly string[], from: number, due: number): number {
  let i = from;
  while (i < lines.length) {
    out.end(lines[i++]);
    if (out.lines >= due) break;
  }
  return i;
}

/** Declares the chains of ports[from…], a port at a time, until the text reaches `due` lines; returns the index of the next port. */
function declarePorts(out: ByteText, ports: readonly PortRules[], from: number, due: number): number {
  let i = from;
  while (i < ports.length) {
    const chains = ports[i++].chains;
    for (let c = 0; c < chains.length; c++) declare(out, chains[c]);
    if (out.lines >= due) break;
  }
  return i;
}

/** Appends the rules `pick` gives for ports[from…to) to `out`; returns `to`. */
function gather(out: string[], ports: readonly PortRules[], pick: (p: PortRules) => readonly string[], from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const rules = pick(ports[i]);
    for (let r = 0; r < rules.length; r++) out.push(rules[r]);
  }
  return to;
}
