// Feature gates kproxy accepts. As upstream, a gate it does not recognise is an error (a
// misspelt gate would otherwise silently do nothing). Each gate says what kproxy does with it.
import { ConfigError } from '../util/errors.js';

export const FEATURE_GATES: Readonly<Record<string, string>> = {
  PreferSameTrafficDistribution: 'honoured: trafficDistribution PreferSameNode prefers endpoints on this node (default true)',
  ServiceTrafficDistribution: 'always on: trafficDistribution is followed (GA upstream)',
  TopologyAwareHints: 'always on: EndpointSlice hints are followed (GA upstream)',
  KubeProxyDrainingTerminatingNodes: 'always on (GA upstream)',
  NFTablesProxyMode: 'always on: the nftables mode needs no gate (GA upstream)',
  LoadBalancerIPMode: 'always on: ipMode Proxy addresses are not captured (GA upstream)',
  KubeProxyNFTablesLocalhostNodePorts: 'not built: the nftables mode never accepts NodePorts on loopback (as upstream without the gate)',
  MultiCIDRServiceAllocator: 'no effect in kproxy (an API server feature)',
  AllAlpha: 'no effect in kproxy',
  AllBeta: 'no effect in kproxy',
  ContextualLogging: 'no effect in kproxy',
  LoggingAlphaOptions: 'no effect in kproxy',
  LoggingBetaOptions: 'no effect in kproxy',
  WinDSR: 'no effect (Windows only)',
  WinOverlay: 'no effect (Windows only)',
};

/** Throws unless every gate is one kproxy recognises. `field` names the flag or the file's field. */
export function checkFeatureGates(gates: Record<string, boolean>, field: (gate: string) => string, closest: (w: string, c: readonly string[]) => string | null): void {
  for (const gate of Object.keys(gates)) {
    if (gate in FEATURE_GATES) continue;
    const near = closest(gate, Object.keys(FEATURE_GATES));
    throw new ConfigError(field(gate), `unrecognized feature gate "${gate}"${near ? ` (did you mean ${near}?)` : ''}; known gates: ${Object.keys(FEATURE_GATES).join(', ')}`);
  }
}
