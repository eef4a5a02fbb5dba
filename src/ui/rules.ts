// The part of the dataplane's programming that implements one service port, as its detail
// view shows it: nftables sets, chains, rules and map elements (the lines of `kproxy rules`
// that belong to it), or the sockets the userspace mode listens on.
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/types.js';
import type { ProxyState, ServicePortState } from '../model/types.js';

export interface RulesView {
  /** What the lines are: "nftables", "userspace listeners", or why there are none. */
  kind: string;
  lines: string[];
}

export async function rulesFor(state: ProxyState, sp: ServicePortState, config: Config): Promise<RulesView> {
  switch (config.mode) {
    case 'nftables':
      return { kind: 'nftables (the lines of `kproxy rules` for this service port)', lines: await nftLines(sp, state, config) };
    case 'userspace':
      return { kind: 'userspace listeners', lines: await listenerLines(sp, state, config) };
    default:
      return { kind: `not shown for the ${config.mode} mode`, lines: [] };
  }
}

async function nftLines(sp: ServicePortState, state: ProxyState, config: Config): Promise<string[]> {
  const { compileServicePort, familyContext } = await import('../dataplanes/nftables/compile.js');
  const { chainLine, elementText, ruleLine, setLine, tableRef } = await import('../dataplanes/nftables/ruleset.js');
  const family = sp.family === 'IPv4' ? 'ip' : 'ip6';
  const rules = compileServicePort(sp, familyContext(family, config, state.node));
  const out: string[] = [];
  for (const s of rules.sets) out.push(setLine(family, s));
  for (const c of [...rules.shared, ...rules.chains]) {
    out.push(chainLine(family, c));
    for (const r of c.rules) out.push(ruleLine(family, c.name, r));
  }
  for (const e of rules.elements) out.push(`add element ${tableRef(family)} ${e.set} { ${elementText(e)} }`);
  return out;
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((a) => a?.address ?? '')
    .filter((a) => a !== '');
}

async function listenerLines(sp: ServicePortState, state: ProxyState, config: Config): Promise<string[]> {
  const { compile } = await import('../dataplanes/userspace/compile.js');
  const only: ProxyState = { ...state, servicePorts: new Map([[sp.key, sp]]) };
  const plan = compile(only, { scheduler: config.ipvs.scheduler, nodePortAddresses: config.nodePortAddresses, localAddresses: machineAddresses() });
  const scheduler = plan.servicePorts.get(sp.key)?.scheduler;
  const out = [...plan.listeners.values()].map(
    (l) =>
      `${l.protocol} ${l.ip.includes(':') ? `[${l.ip}]` : l.ip}:${l.port}  ${l.kind} traffic${l.sourceRanges.length ? `, only from ${l.sourceRanges.join(', ')}` : ''}${scheduler ? `, scheduler ${scheduler}` : ''}`,
  );
  for (const w of plan.warnings) out.push(`# ${w.field}: ${w.reason}`);
  return out;
}
