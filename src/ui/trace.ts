// The trace form's back end: the same walk as `kproxy trace`, on the ruleset of the running
// proxy. In nftables mode that is the ruleset last applied (the text /rules serves). The
// userspace mode programs no ruleset: the trace then walks the nftables ruleset compiled from
// the same synced state — what `kproxy trace --manifests` walks for the same objects — and
// says so. Parsed once per state generation.
import { parseIP } from '../api/ip.js';
import type { Config } from '../config/types.js';
import { packetFrom } from '../cli/trace.js';
import type { ProxyState } from '../model/types.js';
import { lastRuleset } from '../trace/last-ruleset.js';
import { parseNft, traceNft, type Ruleset } from '../trace/nft/index.js';
import { traceJSON, type TraceJSON } from '../trace/result.js';
import { renderStory } from '../trace/story.js';

export interface TraceAnswer extends TraceJSON {
  /** Which ruleset was walked, in words. */
  ruleset: string;
  /** The packet's story, as `kproxy trace` prints it. */
  story: string;
}

interface Parsed {
  key: string;
  ruleset: Ruleset;
  origin: string;
  nodeAddresses: readonly string[];
}

export class Tracer {
  private parsed: Parsed | null = null;

  constructor(private readonly config: Config) {}

  /** Throws ConfigError for a bad packet (field named), TraceError/NftSyntaxError from the walk. */
  async trace(params: URLSearchParams, state: ProxyState): Promise<TraceAnswer> {
    const packet = packetFrom({
      src: params.get('src') ?? '',
      dst: params.get('dst') ?? '',
      dport: params.get('dport') ?? '',
      protocol: params.get('protocol') ?? 'tcp',
    });
    const p = await this.rulesetFor(state);
    const locals = p.nodeAddresses.map((a) => parseIP(a)?.ip ?? a);
    const result = traceNft(p.ruleset, packet, { localAddresses: locals });
    const where = `node ${state.node.name}; local addresses: ${locals.join(', ') || '(none)'} (plus loopback); ruleset: ${p.origin}`;
    return { ...traceJSON(result), ruleset: p.origin, story: renderStory(result, { where }) };
  }

  private async rulesetFor(state: ProxyState): Promise<Parsed> {
    const applied = lastRuleset();
    if (applied) {
      const key = `applied/${applied.generation}/${applied.appliedAt.getTime()}`;
      if (this.parsed?.key !== key) {
        const how = applied.origin === 'applier' ? 'as applied' : 'compiled from the state of that sync';
        this.parsed = { key, ruleset: parseNft(applied.render(), { lazy: true }), origin: `the ${applied.mode} ruleset of generation ${applied.generation} (${how})`, nodeAddresses: applied.nodeAddresses };
      }
      return this.parsed;
    }
    const key = `state/${state.generation}`;
    if (this.parsed?.key !== key) {
      const { compileText } = await import('../dataplanes/nftables/compile.js');
      const origin =
        this.config.mode === 'nftables'
          ? `the nftables ruleset compiled from the state of generation ${state.generation} (nothing applied yet)`
          : `the nftables ruleset compiled from the state of generation ${state.generation}: the ${this.config.mode} mode programs no ruleset, this is what the nftables mode would apply for the same objects`;
      this.parsed = { key, ruleset: parseNft(compileText(state, this.config), { lazy: true }), origin, nodeAddresses: state.node.addresses };
    }
    return this.parsed;
  }
}
