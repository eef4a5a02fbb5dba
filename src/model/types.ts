// ProxyState: everything a dataplane, the DNS server and the tools need to know, computed
// once per sync by the model. Immutable: a new snapshot shares unchanged entries with the
// previous one, and says which service ports changed so dataplanes can sync partially.
import type { IPFamily } from '../api/ip.js';
import type { EndpointSlice, LoadBalancerIngress, Node, Protocol, Service, ServiceAffinity, ServiceType, TrafficPolicy } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';

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
  /** Endpoints for traffic to the ClusterIP (per internalTrafficPolicy). */
  readonly internalEndpoints: readonly Endpoint[];
  /**
   * Endpoints for traffic to external addresses from outside the node (per
   * externalTrafficPolicy). Traffic to external addresses from pods or from the node itself
   * is short-circuited to clusterEndpoints, as kube-proxy does.
   */
  readonly externalEndpoints: readonly Endpoint[];
  /**
   * Whether any usable endpoint exists anywhere. False: "no endpoints" (REJECT). True but the
   * policy's set is empty: "no usable endpoints for this policy" (DROP).
   */
  readonly hasEndpoints: boolean;
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
}

export interface ProxyState {
  /** Monotonic snapshot number. */
  readonly generation: number;
  readonly node: NodeInfo;
  /** Every proxied service port, keyed by ServicePortState.key. */
  readonly servicePorts: ReadonlyMap<string, ServicePortState>;
  /** Every valid Service, including headless and ExternalName ones (DNS needs them), by "ns/name". */
  readonly services: ReadonlyMap<string, Service>;
  /** EndpointSlices of each Service, by the Service's "ns/name". */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Service port keys added or changed since the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Service port keys removed since the previous snapshot. */
  readonly deleted: ReadonlySet<string>;
  /** Objects rejected by validation, and conflicts between objects. */
  readonly errors: readonly ObjectError[];
}

export type { Node, Service, EndpointSlice };
