// Which dataplane implements each --proxy-mode, and the mode's pure compiler. Both are loaded
// lazily so that a mode's dependencies (koffi, nft, ...) are only touched when it is chosen.
// `kproxy run` creates the dataplane; `kproxy rules`, `kproxy trace` and the /rules page ask
// for the compiler: one entry per mode, so they can never disagree about what a mode emits.
import type { Config, ProxyMode } from '../config/types.js';
import type { ProxyState } from '../model/types.js';
import { ConfigError } from '../util/errors.js';
import type { ModeCleanup } from './cleanup.js';
import type { Dataplane, DataplaneContext } from './dataplane.js';

export type DataplaneFactory = (ctx: DataplaneContext) => Promise<Dataplane>;

/** Exactly the text the mode's applier hands the kernel on a full sync. */
export type RulesetCompiler = (state: ProxyState, config: Config) => string;

export interface ModeEntry {
  create: DataplaneFactory;
  /** Absent for modes with no ruleset text (userspace). */
  compiler?: () => Promise<RulesetCompiler>;
  /** What `kproxy cleanup` runs for this mode; absent when the mode leaves nothing behind. */
  cleanup?: () => Promise<ModeCleanup>;
}

const modes: Partial<Record<ProxyMode, ModeEntry>> = {
  userspace: {
    create: async (ctx) => (await import('./userspace/index.js')).createUserspaceDataplane(ctx),
  },
  nftables: {
    create: async (ctx) => (await import('./nftables/index.js')).create(ctx),
    compiler: async () => (await import('./nftables/compile.js')).compileText,
    cleanup: async () => (await import('./nftables/cleanup.js')).nftablesCleanup(),
  },
  iptables: {
    create: async (ctx) => (await import('./iptables/index.js')).create(ctx),
    compiler: async () => (await import('./iptables/text.js')).compileText,
    cleanup: async () => (await import('./iptables/cleanup.js')).iptablesCleanup(),
  },
  // ebpf: socket-level load balancing for ClusterIPs, composed here with the nftables mode for
  // the external entry points (a dataplane never imports another one).
  ebpf: {
    create: async (ctx) => (await import('./ebpf/index.js')).create(ctx, (c) => modes.nftables!.create(c)),
    compiler: async () => {
      const nft = await modes.nftables!.compiler!();
      const { rulesText } = await import('./ebpf/inspect.js');
      return (state, config) => rulesText(state, (s) => nft(s, config));
    },
    cleanup: async () => (await import('./ebpf/cleanup.js')).ebpfCleanup(),
  },
  ipvs: {
    // Falls back to iptables mode, when that is registered, on a kernel without IPVS.
    create: async (ctx) => {
      const iptables = modes.iptables;
      const fallback = iptables ? () => iptables.create({ ...ctx, config: { ...ctx.config, mode: 'iptables' } }) : null;
      return (await import('./ipvs/index.js')).create(ctx, fallback);
    },
    compiler: async () => (await import('./ipvs/rules.js')).rulesText,
    cleanup: async () => (await import('./ipvs/cleanup.js')).ipvsCleanup(),
  },
};

export function availableModes(): ProxyMode[] {
  return Object.keys(modes) as ProxyMode[];
}

/** The modes whose ruleset `kproxy rules` can print. */
export function compiledModes(): ProxyMode[] {
  return availableModes().filter((m) => modes[m]?.compiler);
}

function entry(mode: ProxyMode): ModeEntry {
  const e = modes[mode];
  if (!e) throw new ConfigError('--proxy-mode', `"${mode}" is not implemented yet (available: ${availableModes().join(', ') || 'none'})`);
  return e;
}

export async function createDataplane(ctx: DataplaneContext): Promise<Dataplane> {
  return entry(ctx.config.mode).create(ctx);
}

/** The cleanups of every mode that installs something in the kernel, by mode. */
export async function modeCleanups(): Promise<[ProxyMode, ModeCleanup][]> {
  const out: [ProxyMode, ModeCleanup][] = [];
  // ipvs before iptables: both name chains KUBE-SERVICES, KUBE-MARK-MASQ, ...; only the ipvs
  // cleanup tells its own from iptables mode's, and iptables mode's cannot delete chains that
  // ipvs mode's rules still refer to.
  const order = availableModes().sort((a, b) => Number(b === 'ipvs') - Number(a === 'ipvs'));
  for (const mode of order) {
    const c = modes[mode]?.cleanup;
    if (c) out.push([mode, await c()]);
  }
  return out;
}

/** The compiler of `mode`, or null when the mode has no ruleset text. Unbuilt modes are a ConfigError. */
export async function rulesetCompiler(mode: ProxyMode): Promise<RulesetCompiler | null> {
  const e = entry(mode);
  return e.compiler ? e.compiler() : null;
}
