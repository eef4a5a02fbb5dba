// Which interpreter reads the ruleset text of each --proxy-mode. `kproxy trace` (and anything
// else that walks a packet, such as the dashboard) asks here; the text itself comes from the
// mode's compiler in the dataplane registry or from a running kproxy's /rules page.
import type { Packet, TraceResult } from './result.js';

export interface TraceOptions {
  /** The node's addresses (canonical text); loopback is always local. */
  localAddresses: readonly string[];
  /** The interface the packet arrives on, for rules that match it. */
  inInterface?: string;
  /** Parse and check the whole ruleset, not only what the packet reaches. */
  checkAll?: boolean;
}

/** A ruleset that does not parse or a packet that cannot be traced: one line for the user. */
export class TraceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceInputError';
  }
}

/** A ruleset's text, whole or in pieces that end at line ends (read-text.ts readRulesetPieces). */
export type RulesetText = string | readonly string[];

export type RulesetTracer = (text: RulesetText, packet: Packet, opts: TraceOptions) => TraceResult;

const whole = (text: RulesetText): string => (typeof text === 'string' ? text : text.join(''));

const tracers: Record<string, () => Promise<RulesetTracer>> = {
  nftables: async () => {
    const { parseNft, traceNft, NftSyntaxError, TraceError } = await import('./nft/index.js');
    return (text, packet, opts) => {
      try {
        return traceNft(parseNft(text, { lazy: !opts.checkAll }), packet, { localAddresses: opts.localAddresses, inInterface: opts.inInterface });
      } catch (e) {
        if (e instanceof NftSyntaxError) throw new TraceInputError(`ruleset ${e.message}`);
        if (e instanceof TraceError) throw new TraceInputError(e.message);
        throw e;
      }
    };
  },
  iptables: async () => {
    const { parseIptables, traceIptables } = await import('./iptables/index.js');
    const { TraceError } = await import('./nft/eval.js');
    return (text, packet, opts) => {
      try {
        return traceIptables(parseIptables(whole(text), { lazy: !opts.checkAll }), packet, { localAddresses: opts.localAddresses, inInterface: opts.inInterface });
      } catch (e) {
        if (e instanceof TraceError) throw new TraceInputError(e.message);
        throw e;
      }
    };
  },
  ebpf: async () => {
    const nft = await tracers.nftables();
    const { MapsSyntaxError, parseEbpfText, traceSocket } = await import('./bpf.js');
    return (text, packet, opts) => {
      let parsed;
      try {
        parsed = parseEbpfText(whole(text));
      } catch (e) {
        if (e instanceof MapsSyntaxError) throw new TraceInputError(`ruleset ${e.message}`);
        throw e;
      }
      return traceSocket(parsed.services, packet, parsed.names) ?? nft(parsed.nftText, packet, opts);
    };
  },
};

// IPVS mode: the text is `kproxy rules --proxy-mode ipvs` output (IPVS table, ipsets, rules).
tracers.ipvs = async () => {
  const { parseIpvsRules } = await import('./ipvs-text.js');
  const { traceIpvs } = await import('./ipvs.js');
  return (text, packet, opts) => {
    const parsed = parseIpvsRules(whole(text));
    const m = parsed.clusterMasquerade.get(packet.family)!;
    return traceIpvs(parsed.families.get(packet.family)!, packet, { localAddresses: opts.localAddresses, masqueradeAll: m.kind === 'all', podCIDRs: m.cidr ? [m.cidr] : [] });
  };
};

export function tracedModes(): string[] {
  return Object.keys(tracers);
}

/** The interpreter for `mode`'s ruleset text, or null when the mode has none. */
export async function tracerFor(mode: string): Promise<RulesetTracer | null> {
  return tracers[mode] ? tracers[mode]() : null;
}
