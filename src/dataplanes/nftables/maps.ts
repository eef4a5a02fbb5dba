// The names of the global maps and chains a service port's rules and elements refer to, and
// the shared pick chains that choose an endpoint through them.
import type { FamilyContext } from './context.js';
import type { ChainDecl } from './ruleset.js';

export const REJECT_CHAIN = 'reject-chain';
export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
// The names are interned once: every element of a 10,000-Service table names its map.
const named = (prefix: string) => {
  const names = new Map<string, string>();
  return (proto: string) => {
    let n = names.get(proto);
    if (n === undefined) names.set(proto, (n = prefix + proto));
    return n;
  };
};
/** DNAT targets by entry address, port and slot, one map per protocol. */
export const serviceEndpointsMap = named('service-endpoints-');
/** DNAT targets of NodePort traffic by node port and slot (any node address). */
export const nodePortEndpointsMap = named('nodeport-endpoints-');
export const SERVICE_ENDPOINT_CHAINS = 'service-endpoint-chains';
export const NODEPORT_ENDPOINT_CHAINS = 'nodeport-endpoint-chains';
/**
 * Slots of node-local endpoint sets start here, so that one key space holds both the
 * cluster-wide and the local set of an address (eTP Local needs both for one LB IP).
 */
export const LOCAL_SLOT_OFFSET = 1 << 20;

/**
 * The shared chain that picks one of N endpoints: by the packet's destination address and
 * port (ClusterIP, externalIP, LB IP), else by its destination port alone (NodePort).
 */
export function pickChain(fc: FamilyContext, kind: 'cluster' | 'local', proto: string, n: number, affinity: boolean): ChainDecl {
  // One object per distinct chain, shared by every service port that uses it (10,000 ports
  // need only a few dozen of them). Looked up by a number made of the chain's parameters
  // (no key string built per port); a protocol kproxy does not know gets a string key.
  const p = PROTOCOLS.indexOf(proto as (typeof PROTOCOLS)[number]);
  const id = p < 0 ? `${fc.ipx} ${kind} ${proto} ${n} ${affinity}` : (((n * 2 + (affinity ? 1 : 0)) * 2 + (kind === 'local' ? 1 : 0)) * 4 + p) * 2 + (fc.ipx === 'ip6' ? 1 : 0);
  let c = pickChains.get(id);
  if (!c) pickChains.set(id, (c = buildPickChain(fc, kind, proto, n, affinity)));
  return c;
}

const pickChains = new Map<string | number, ChainDecl>();

/** `goto NAME` for a shared chain: one string for all the ports that jump to it. */
export function gotoRule(name: string): string {
  let r = gotoRules.get(name);
  if (r === undefined) gotoRules.set(name, (r = 'goto ' + name));
  return r;
}

const gotoRules = new Map<string, string>();

function buildPickChain(fc: FamilyContext, kind: 'cluster' | 'local', proto: string, n: number, affinity: boolean): ChainDecl {
  const pick = `numgen random mod ${n}` + (kind === 'local' ? ` offset ${LOCAL_SLOT_OFFSET}` : '');
  if (affinity) {
    return {
      name: `pick-${kind}-affinity-${n}`,
      rules: [`${fc.ipx} daddr . meta l4proto . th dport . ${pick} vmap @${SERVICE_ENDPOINT_CHAINS}`, `meta l4proto . th dport . ${pick} vmap @${NODEPORT_ENDPOINT_CHAINS}`],
    };
  }
  return {
    name: `pick-${kind}-${proto}-${n}`,
    rules: [
      `meta l4proto ${proto} dnat to ${fc.ipx} daddr . ${proto} dport . ${pick} map @${serviceEndpointsMap(proto)}`,
      `meta l4proto ${proto} dnat to ${proto} dport . ${pick} map @${nodePortEndpointsMap(proto)}`,
    ],
  };
}
