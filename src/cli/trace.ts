// `kproxy trace`: walks the first packet of a new connection through the ruleset kproxy
// would apply (compiled from a manifests folder), the one it last applied (--live), or a
// saved text (--ruleset), and tells where it goes: every rule it hits, the verdict, every
// endpoint it can reach with its exact probability, and whether it is masqueraded.
import type { Command } from 'commander';
import { parseIP } from '../api/ip.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../util/errors.js';
import { packetFrom } from '../trace/packet.js';
import { traceJSON } from '../trace/result.js';
import { renderStory } from '../trace/story.js';
import { readRulesetPieces, readRulesetText } from '../trace/read-text.js';
import { TraceInputError, tracedModes, tracerFor, type RulesetText } from '../trace/tracers.js';
import { rulesetCompiler } from '../dataplanes/registry.js';
import type { RulesPageJSON } from '../rules/page.js';
import type { ProxyMode } from '../config/types.js';
import type { ProxyState } from '../model/types.js';
import { dialable } from './dial.js';
import { describeDestination } from './trace-destination.js';
import { requireMode } from './mode.js';
import { addConfigOptions, configFrom } from './options.js';
import { writeStdout } from './write-stdout.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description("walk the first packet of a new connection through kproxy's ruleset: rules hit, verdict, endpoints with exact probabilities, masquerade")
    .requiredOption('--src <ip>', 'source address of the packet')
    .requiredOption('--dst <ip>', 'destination address of the packet')
    .requiredOption('--dport <port>', 'destination port')
    .option('--protocol <proto>', 'tcp, udp or sctp', 'tcp')
    .option('--sport <port>', 'source port (no kproxy rule looks at it)', '0')
    .option('--local-address <ip>', "an address of this node (repeatable); replaces the Node's status.addresses", collect, [])
    .option('--in-interface <name>', 'interface the packet arrives on (only for rules that match iifname)')
    .option('--live', 'trace against the ruleset last applied by a running kproxy (its /rules page on --metrics-bind-address)')
    .option('--ruleset <file>', 'trace against this text instead of compiling: a `kproxy rules` output, a saved nft transaction, or (iptables) an iptables-save output')
    .option('--check-all', 'parse and check the whole ruleset, not only the chains and sets the packet reaches')
    .option('--json', 'print one JSON object (its fields: docs/trace.md)');
  addConfigOptions(cmd, 'trace').action(async (opts) => {
    try {
      await trace(opts);
    } catch (e) {
      if (e instanceof TraceInputError) {
        process.stderr.write(`kproxy trace: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  });
}

interface Source {
  mode: string;
  /** The state the ruleset was compiled from, when a folder was read. */
  state: ProxyState | null;
  text: RulesetText;
  node: string;
  nodeAddresses: readonly string[];
  origin: string;
}

async function trace(opts: Record<string, unknown>): Promise<void> {
  const packet = packetFrom(opts);
  const cfg = configFrom(opts as never);
  // A live ruleset says which mode it is, and so does a saved one (by its syntax) when no mode
  // was chosen; compiling from a folder needs a chosen (or default) mode that can be traced.
  if (!opts.live && !(opts.ruleset && cfg.modeSource === 'default')) requireMode(cfg, tracedModes() as ProxyMode[], 'kproxy trace');
  const src = await rulesetSource(cfg, opts);
  const tracer = await tracerFor(src.mode);
  if (!tracer) {
    // The userspace mode programs no ruleset; the default mode's compile of the same objects is
    // what the dashboard's trace form walks for it, so point there rather than at a dead end.
    const instead = src.mode === 'userspace' ? "; `kproxy trace --manifests DIR` walks, as the dashboard's trace form does, the rules the default iptables mode would apply for the same objects" : '';
    throw new ConfigError('--live', `the ${src.mode} mode has no tracer (kproxy trace works with: ${tracedModes().join(', ')})${instead}`);
  }
  const locals = (opts.localAddress as string[]).length > 0 ? (opts.localAddress as string[]).map((a) => canonicalIP(a, '--local-address')) : src.nodeAddresses.map((a) => parseIP(a)?.ip ?? a);
  const result = tracer(src.text, packet, { localAddresses: locals, inInterface: opts.inInterface as string | undefined, checkAll: Boolean(opts.checkAll) });
  if (opts.json) {
    writeStdout(JSON.stringify(traceJSON(result), null, 2) + '\n');
    return;
  }
  const where =
    `mode: ${src.mode} (kproxy's ${src.mode} ruleset)\n` +
    `${describeDestination(src.state, packet, locals)}\n` +
    `node ${src.node || '(unknown)'}; local addresses: ${locals.join(', ') || '(none)'} (plus loopback); ruleset: ${src.origin}`;
  writeStdout(renderStory(result, { where }));
}

async function rulesetSource(cfg: Config, opts: Record<string, unknown>): Promise<Source> {
  if (opts.live) {
    const bind = cfg.metricsBindAddress;
    if (!bind) throw new ConfigError('--metrics-bind-address', 'needed by --live: where the running kproxy serves /rules');
    const url = `http://${dialable(bind)}/rules?format=json`;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, …) is its cause
      throw new ConfigError('--live', `cannot reach ${url}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message} (is kproxy run serving metrics there?)`);
    }
    if (!res.ok) throw new ConfigError('--live', `${url} answered ${res.status}: ${(await res.text()).trim()}`);
    const page = (await res.json()) as RulesPageJSON;
    if (cfg.modeSource !== 'default' && page.mode !== cfg.mode)
      throw new ConfigError(cfg.modeSource === 'flag' ? '--proxy-mode' : 'mode', `"${cfg.mode}", but the running kproxy runs in ${page.mode} mode`);
    return { mode: page.mode, state: null, text: page.ruleset, node: page.node, nodeAddresses: page.nodeAddresses, origin: `${url}, applied ${page.appliedAt}` };
  }
  // Reading a folder pulls in the manifests source and its YAML parser: loaded only for it.
  const state = cfg.manifests ? await (await import('./state.js')).loadStateOnce(cfg) : null;
  if (opts.ruleset) {
    const file = opts.ruleset as string;
    let text: string[];
    try {
      // In pieces for the nft parser (read-text.ts); whole for the other modes' readers.
      text = cfg.modeSource === 'default' || cfg.mode === 'nftables' ? readRulesetPieces(file) : [readRulesetText(file)];
    } catch (e) {
      throw new ConfigError('--ruleset', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const mode = cfg.modeSource === 'default' ? sniffMode(text) : cfg.mode;
    return { mode, state, text, node: state?.node.name ?? '', nodeAddresses: state?.node.addresses ?? [], origin: file };
  }
  if (!state) throw new ConfigError('--manifests', 'required (or --live, or --ruleset FILE): the folder of Kubernetes YAML to compile the ruleset from');
  const compile = await rulesetCompiler(cfg.mode);
  if (!compile) throw new ConfigError(cfg.modeSource === 'flag' ? '--proxy-mode' : 'mode', `mode "${cfg.mode}" has no ruleset to trace`);
  return { mode: cfg.mode, state, text: compile(state, cfg), node: state.node.name, nodeAddresses: state.node.addresses, origin: `compiled from ${cfg.manifests}` };
}

/** The mode a saved ruleset belongs to, from its syntax: iptables-save tables start with "*". */
function sniffMode(pieces: readonly string[]): string {
  // Pieces end at line ends: no line is split between two.
  return pieces.some((p) => /^\*(nat|filter|mangle|raw)\s*$/m.test(p)) ? 'iptables' : 'nftables';
}

function canonicalIP(text: string, flag: string): string {
  const p = parseIP(text);
  if (!p) throw new ConfigError(flag, `"${text}" is not an IP address`);
  return p.ip;
}
