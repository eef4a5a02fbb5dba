// ProxyState: everything a dataplane, the DNS server and the tools need to know, computed
// once per sync by the model. Immutable: a new snapshot shares unchanged entries with the
// previous one, and says which service ports changed so dataplanes can sync partially.
import type { IPFamily } from '../api/ip.js';
import type { EndpointSlice, LoadBalancerIngress, Node, Protocol, Service, ServiceAffinity, ServiceType, TrafficPolicy } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';
import type { DnsService } from './dns.js';

/** One endpoint (first address of a slice endpoint) for one service port. */
export interface Endpoint {
  ip: string;
  port: number;
  /** "ip:port" ("[ip]:port" for IPv6): the endpoint's identity, as kube-proxy prints it. */
  endpoint: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string;
  zone: string;
  zoneHints: readonly string[];
  nodeHints: readonly string[];
  hostname: string;
}

/**
 * One port of one Service in one IP family: the unit every dataplane programs.
 * Endpoint sets follow kube-proxy's CategorizeEndpoints:
 *  - clusterEndpoints: used for Cluster-policy traffic (topology applied); null when unused
 *  - localEndpoints: node-local, used for Local-policy traffic; null when unused
 *  - allReachableEndpoints: the union a dataplane must be able to reach
 */
export interface ServicePortState {
  /** Unique key: "ns/name:portName/PROTOCOL/family". */
  readonly key: string;
  /** kube-proxy's ServicePortName string: "ns/name:portName", or "ns/name" for an unnamed port. */
  readonly servicePortName: string;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly family: IPFamily;
  readonly type: ServiceType;
  readonly clusterIP: string;
  readonly port: number;
  readonly nodePort: number; // 0 = none
  readonly targetPort: number | string | null;
  readonly externalIPs: readonly string[]; // this family only
  /** LoadBalancer ingress IPs of this family that the proxy captures (ipMode VIP). */
  readonly loadBalancerIPs: readonly string[];
  /** Every ingress of this family, including ipMode Proxy ones (not captured). */
  readonly loadBalancerIngress: readonly LoadBalancerIngress[];
  readonly loadBalancerSourceRanges: readonly string[]; // this family only
  readonly healthCheckNodePort: number; // 0 unless LoadBalancer with eTP Local
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly sessionAffinity: ServiceAffinity;
  readonly annotations: Readonly<Record<string, string>>;
  /** NodePort, externalIPs or LoadBalancer IPs present. */
  readonly externallyAccessible: boolean;
  readonly internalPolicyLocal: boolean;
  readonly externalPolicyLocal: boolean;
  /** Every endpoint of this family for this port, whatever its conditions. */
  readonly endpoints: readonly Endpoint[];
  readonly clusterEndpoints: readonly Endpoint[] | null;
  readonly localEndpoints: readonly Endpoint[] | null;
  readonly allReachableEndpoints: readonly Endpoint[];
  /** Traffic to the ClusterIP: which endpoints serve it and what happens when there are none. */
  readonly internal: InternalEntry;
  /** Traffic to the NodePort, externalIPs and LoadBalancer IPs; null when the port has none of them. */
  readonly external: ExternalEntry | null;
  /**
   * Whether any usable endpoint exists anywhere. False: "no endpoints" (REJECT). True but the
   * policy's set is empty: "no usable endpoints for this policy" (DROP).
   */
  readonly hasEndpoints: boolean;
}

/**
 * What a dataplane does with a packet whose entry point has no endpoint to send it to:
 * `reject` when the Service has no usable endpoint anywhere (clients fail fast), `drop` when
 * endpoints exist but none is usable for this traffic's policy (as kube-proxy: the client
 * sees a dead node, a load balancer's health check moves on).
 */
export type NoEndpointsVerdict = 'reject' | 'drop';

/** Traffic to the ClusterIP, per internalTrafficPolicy. */
export interface InternalEntry {
  readonly policy: TrafficPolicy;
  /** The endpoints that serve it: clusterEndpoints (Cluster) or localEndpoints (Local). */
  readonly endpoints: readonly Endpoint[];
  /** null while `endpoints` is non-empty; else what happens to the traffic. */
  readonly noEndpoints: NoEndpointsVerdict | null;
}

/**
 * Traffic to the external entry points of a port (NodePort, externalIPs, LoadBalancer IPs of
 * ipMode VIP), per externalTrafficPolicy. kube-proxy's rules, decided once here:
 *  - `capture`: the external addresses are dispatched (DNAT, proxied) whenever the Service
 *    has a usable endpoint anywhere, even when `endpoints` is empty, because traffic from this
 *    node's Pods and from the node itself may still be short-circuited;
 *  - `shortCircuit` (eTP Local): traffic from this node's Pods and from the node itself goes to
 *    `shortCircuitEndpoints` (the cluster-wide set) and, from the node, is masqueraded; only
 *    traffic from outside the node is held to the local endpoints and keeps its source;
 *  - `noEndpoints`: what happens to traffic that was neither served by `endpoints` nor
 *    short-circuited.
 */
export interface ExternalEntry {
  readonly policy: TrafficPolicy;
  readonly capture: boolean;
  /** The endpoints that serve traffic from outside the node: cluster (Cluster) or local (Local). */
  readonly endpoints: readonly Endpoint[];
  readonly shortCircuit: boolean;
  /** The set short-circuited traffic goes to (the cluster-wide set); empty unless shortCircuit. */
  readonly shortCircuitEndpoints: readonly Endpoint[];
  /** `all`: every packet is masqueraded (eTP Cluster); `node`: only node-originated ones (eTP Local keeps the client's address). */
  readonly masquerade: 'all' | 'node';
  /** null while `endpoints` is non-empty; else what happens to traffic not short-circuited. */
  readonly noEndpoints: NoEndpointsVerdict | null;
  /**
   * Sources allowed to reach the LoadBalancer IPs: loadBalancerSourceRanges of this family
   * plus, when a range holds the node's primary IP, the LB IPs themselves (traffic the node
   * loops back to its own LB address arrives with the LB IP as its source). Empty: no
   * restriction (also when the port has no LB IP).
   */
  readonly loadBalancerAllowedSources: readonly string[];
}

/** What this node is: its name, labels and addresses. */
export interface NodeInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  zone: string;
  /** InternalIP/ExternalIP addresses from the Node object (or the machine), primary first per family. */
  addresses: readonly string[];
  podCIDRs: readonly string[];
  deleting: boolean;
  /** Tainted to be removed (e.g. ToBeDeletedByClusterAutoscaler): not eligible for LB traffic. */
  eligible: boolean;
  /** Whether a Node object was found (false: defaults from the machine). */
  known: boolean;
  /** The node's primary IP per family (--bind-address / nodeIPOverride first, then the Node's addresses); "" when none. */
  primaryIPv4: string;
  primaryIPv6: string;
}

export interface ProxyState {
  /** Monotonic snapshot number. */
  readonly generation: number;
  readonly node: NodeInfo;
  /** Every proxied service port, keyed by ServicePortState.key. */
  readonly servicePorts: ReadonlyMap<string, ServicePortState>;
  /** Every valid Service, including headless and ExternalName ones (DNS needs them), by "ns/name". */
  readonly services: ReadonlyMap<string, Service>;
  /** What the cluster DNS publishes for each valid Service, by "ns/name" (unchanged views are shared between snapshots). */
  readonly dns: ReadonlyMap<string, DnsService>;
  /** EndpointSlices of each Service, by the Service's "ns/name". */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Whether this node's NodeInfo differs from the previous snapshot's (every port was recomputed). */
  readonly nodeChanged: boolean;
  /** Service port keys added or changed since the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Service port keys removed since the previous snapshot. */
  readonly deleted: ReadonlySet<string>;
  /** Objects rejected by validation, and conflicts between objects. */
  readonly errors: readonly ObjectError[];
}

export type { Node, Service, EndpointSlice };
