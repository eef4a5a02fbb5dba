// The first packet of a new connection through an nft ruleset, hook by hook, in the order
// the kernel runs them (../shared/conformance/NOTES.md §2):
//   from elsewhere:  prerouting (filter -110 firewall, nat dstnat DNAT, …) → routing on the
//                    rewritten destination → input (local) or forward → postrouting (masquerade)
//   from this node:  output (filter -110, nat, filter 0) → postrouting → and, for a local
//                    destination, back in through loopback: prerouting, input (nat skipped:
//                    a connection is NATed once per direction)
// Within a hook, base chains run by priority; drop or reject ends the walk; accept ends only
// that chain. nat chains run once per connection and manipulation type, as nf_nat does.
import { exploreAll, type Choose } from '../explore.js';
import type { Outcome, Packet, TraceEvent, TraceResult, Verdict } from '../result.js';
import { IPV4, IPV6, type Value } from './datatypes.js';
import type { Chain, Hook, NftSet, Ruleset, Table } from './ast.js';
import { protoNumber, runChain, TraceError, type PacketState, type WalkContext } from './eval.js';
import { namedChains } from './chain-runs.js';

export interface NftTraceOptions {
  /** Addresses of the node (canonical text); loopback addresses are always local. */
  localAddresses: Iterable<string>;
  /** The interface the packet arrives on, for rules that match iifname. */
  inInterface?: string;
}

interface BaseChain {
  table: Table;
  chain: Chain;
  order: number;
}

/** Traces `packet` through `rs`, exploring every random branch. */
export function traceNft(rs: Ruleset, packet: Packet, opts: NftTraceOptions): TraceResult {
  const local = new Set<string>();
  for (const a of opts.localAddresses) local.add(a);
  const isLocal = (family: 'IPv4' | 'IPv6', v: Value): boolean => {
    if (family === 'IPv4') return (v as number) >>> 24 === 127 || local.has(IPV4.format(v));
    return v === 1n || local.has(IPV6.format(v));
  };
  const dt = packet.family === 'IPv4' ? IPV4 : IPV6;
  const saddr = dt.parse(packet.src);
  const daddr = dt.parse(packet.dst);
  if (saddr === null || daddr === null) throw new TraceError(`source ${packet.src} and destination ${packet.dst} must both be ${packet.family} addresses`);
  const { chains, dynamicSets } = derived(rs, packet.family);
  const notes = new Set<string>();

  const branches = exploreAll((choose: Choose) => {
    const pkt: PacketState = {
      family: packet.family,
      saddr,
      daddr,
      l4proto: protoNumber(packet.protocol),
      sport: packet.sport,
      dport: packet.dport,
      mark: 0,
      ctMark: 0,
      ctStatus: 0,
      dnat: null,
      masquerade: false,
      accepted: false,
      inInterface: opts.inInterface ?? null,
      outInterface: null,
    };
    const ctx: WalkContext = { pkt, isLocal, choose, events: [], dynamicSets, notes };
    const verdict = walk(ctx, chains);
    return { verdict, pkt, events: ctx.events };
  });

  const outcomes: Outcome[] = branches.map(({ result, probability }) => ({
    probability,
    verdict: result.verdict,
    endpoint: result.verdict === 'DNAT' ? result.pkt.dnat : null,
    masquerade: result.pkt.masquerade,
    events: result.events,
  }));
  return { packet, notes: affinityNote(notes), outcomes };
}

function affinityNote(sets: Set<string>): string[] {
  if (sets.size === 0) return [];
  const names = [...sets].map((n) => `@${n}`);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  return [
    `session affinity: ${shown} ${sets.size === 1 ? 'is' : 'are'} filled by the packets themselves; this trace is a client's first connection, ` +
      'so lookups in them never match. Later connections from the same client, within the affinity timeout, go to the endpoint chosen now.',
  ];
}

function walk(ctx: WalkContext, chains: Map<Hook, BaseChain[]>): Verdict {
  const pkt = ctx.pkt;
  const natDone = { dst: false, src: false };
  const say = (text: string) => ctx.events.push({ depth: 0, text });
  const runHook = (hook: Hook): 'drop' | 'reject' | null => {
    const list = chains.get(hook) ?? [];
    const manip = hook === 'prerouting' || hook === 'output' ? 'dst' : 'src';
    say(`${hook} hook`);
    let ranNat = false;
    for (const { table, chain } of list) {
      const base = chain.base!;
      if (base.type === 'nat') {
        if (natDone[manip]) continue; // NAT is decided once per connection and direction
        ranNat = true;
      }
      ctx.events.push({ depth: 1, text: `${table.family} ${table.name} ${chain.name} (type ${base.type}, priority ${base.priorityText})` });
      let r = runChain(ctx, table, chain, 1);
      if (r === 'return') {
        r = base.policy;
        if (base.policy === 'drop') ctx.events.push({ depth: 2, text: 'no rule decided: chain policy drop' });
      }
      if (r === 'drop' || r === 'reject') {
        ctx.events.push({ depth: 2, text: r === 'drop' ? '✗ dropped' : '✗ rejected (the client gets an ICMP error or a TCP reset at once)' });
        return r;
      }
    }
    if (ranNat) natDone[manip] = true;
    return null;
  };
  const finish = (stopped: 'drop' | 'reject' | null): Verdict => {
    if (stopped) return stopped === 'drop' ? 'DROP' : 'REJECT';
    if (pkt.dnat) return 'DNAT';
    return pkt.accepted ? 'ACCEPT' : 'NONE';
  };
  const destination = () => (pkt.family === 'IPv4' ? IPV4 : IPV6).format(pkt.daddr);

  if (ctx.isLocal(pkt.family, pkt.saddr)) {
    say('the source is an address of this node: the packet starts on the output path');
    pkt.inInterface = ''; // locally generated: no input interface
    let stop = runHook('output');
    if (stop) return finish(stop);
    const toLocal = ctx.isLocal(pkt.family, pkt.daddr);
    say(`routing: ${destination()} is ${toLocal ? 'local to this node (loopback)' : 'not local to this node'}`);
    stop = runHook('postrouting');
    if (stop) return finish(stop);
    if (toLocal) {
      pkt.inInterface = 'lo'; // back in through loopback
      stop = runHook('prerouting');
      if (stop) return finish(stop);
      stop = runHook('input');
    }
    return finish(stop);
  }
  let stop = runHook('prerouting');
  if (stop) return finish(stop);
  const toLocal = ctx.isLocal(pkt.family, pkt.daddr);
  say(`routing: ${destination()} is ${toLocal ? 'local to this node: input' : 'not local to this node: forward'}`);
  if (toLocal) return finish(runHook('input'));
  stop = runHook('forward');
  if (stop) return finish(stop);
  return finish(runHook('postrouting'));
}

const cache = new WeakMap<Ruleset, Map<string, { chains: Map<Hook, BaseChain[]>; dynamicSets: Set<NftSet> }>>();

/** What every trace of a family needs from the ruleset, computed once per parsed ruleset. */
function derived(rs: Ruleset, family: 'IPv4' | 'IPv6') {
  let byFamily = cache.get(rs);
  if (!byFamily) cache.set(rs, (byFamily = new Map()));
  let d = byFamily.get(family);
  if (!d) byFamily.set(family, (d = { chains: baseChains(rs, family), dynamicSets: fedSets(rs) }));
  return d;
}

/** Base chains that see packets of this family, by hook, in priority order (no line a lazy parse steps over makes one). */
function baseChains(rs: Ruleset, family: 'IPv4' | 'IPv6'): Map<Hook, BaseChain[]> {
  const fam = family === 'IPv4' ? 'ip' : 'ip6';
  const out = new Map<Hook, BaseChain[]>();
  let order = 0;
  for (const table of rs.tables.values()) {
    if (table.family !== fam && table.family !== 'inet') continue;
    for (const chain of namedChains(table.chains)) {
      if (!chain.base) continue;
      const list = out.get(chain.base.hook) ?? [];
      list.push({ table, chain, order: order++ });
      out.set(chain.base.hook, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.chain.base!.priority - b.chain.base!.priority || a.order - b.order);
  return out;
}

/** Sets that packets fill (`update @set`, `add @set`, flag dynamic): session-affinity memory. */
function fedSets(rs: Ruleset): Set<NftSet> {
  const out = new Set<NftSet>();
  for (const table of rs.tables.values()) {
    for (const set of table.sets.values()) if (set.flags.has('dynamic') || table.fed.has(set.name)) out.add(set);
  }
  return out;
}

export type { TraceEvent };
