// The trace form's back end: the same walk as `kproxy trace`, on the ruleset of the running
// proxy. When the dataplane publishes what it committed (nftables, iptables, ebpf, ipvs), that text is walked —
// what /rules serves and `kproxy trace --live` walks. A mode with no ruleset text (userspace)
// gets the iptables ruleset (the default mode) compiled from the same synced state — what `kproxy trace
// --manifests` walks for the same objects — and the answer says so.
import { parseIP } from '../api/ip.js';
import { packetFrom } from '../trace/packet.js';
import type { Config } from '../config/types.js';
import { rulesetCompiler } from '../dataplanes/registry.js';
import type { ProxyState } from '../model/types.js';
import type { RulesetStore } from '../rules/store.js';
import { traceJSON, type TraceJSON } from '../trace/result.js';
import { renderStory } from '../trace/story.js';
import { tracerFor, TraceInputError } from '../trace/tracers.js';

/** The mode walked when the running one has no ruleset text. */
const FALLBACK_MODE = 'iptables'; // kube-proxy's default mode: what `kproxy trace --manifests` walks by default

export interface TraceAnswer extends TraceJSON {
  /** Which ruleset was walked, in words. */
  ruleset: string;
  /** The packet's story, as `kproxy trace` prints it. */
  story: string;
}

interface Source {
  key: string;
  mode: string;
  text: string;
  origin: string;
  nodeAddresses: readonly string[];
}

export class Tracer {
  /** The last compiled text, kept while the state's generation stays the same. */
  private compiled: Source | null = null;

  constructor(
    private readonly config: Config,
    private readonly rules: RulesetStore | undefined,
  ) {}

  /** Throws ConfigError for a bad packet (naming the field) and TraceInputError for a walk that cannot be done. */
  async trace(params: URLSearchParams, state: ProxyState): Promise<TraceAnswer> {
    const packet = packetFrom({
      src: params.get('src') ?? '',
      dst: params.get('dst') ?? '',
      dport: params.get('dport') ?? '',
      protocol: params.get('protocol') ?? 'tcp',
    });
    const src = await this.source(state);
    const tracer = await tracerFor(src.mode);
    if (!tracer) throw new TraceInputError(`the ${src.mode} ruleset cannot be traced yet`);
    const locals = src.nodeAddresses.map((a) => parseIP(a)?.ip ?? a);
    const result = tracer(src.text, packet, { localAddresses: locals });
    const where = `node ${state.node.name}; local addresses: ${locals.join(', ') || '(none)'} (plus loopback); ruleset: ${src.origin}`;
    return { ...traceJSON(result), ruleset: src.origin, story: renderStory(result, { where }) };
  }

  private async source(state: ProxyState): Promise<Source> {
    const applied = this.rules?.current();
    // The userspace mode publishes its listeners, which no tracer reads.
    if (applied && (await tracerFor(applied.mode))) {
      return {
        key: '',
        mode: applied.mode,
        text: applied.render(),
        origin: `the ${applied.mode} ruleset committed for generation ${applied.generation} at ${applied.appliedAt.toISOString()}`,
        nodeAddresses: applied.nodeAddresses,
      };
    }
    const own = await rulesetCompiler(this.config.mode).catch(() => null);
    const mode = own ? this.config.mode : FALLBACK_MODE;
    const key = `${mode}/${state.generation}`;
    if (this.compiled?.key !== key) {
      const compile = own ?? (await rulesetCompiler(FALLBACK_MODE))!;
      const origin = own
        ? `the ${mode} ruleset compiled from the state of generation ${state.generation} (nothing committed yet)`
        : `the ${mode} ruleset compiled from the state of generation ${state.generation}: the ${this.config.mode} mode programs no ruleset, this is what the ${mode} mode would apply for the same objects`;
      this.compiled = { key, mode, text: compile(state, this.config), origin, nodeAddresses: state.node.addresses };
    }
    return this.compiled;
  }
}
