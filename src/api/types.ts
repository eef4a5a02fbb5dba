// The Kubernetes objects kproxy consumes, as they appear in JSON/YAML (only the fields that
// proxying, DNS and standalone mode depend on), and the validated, normalised forms the
// model works with. Raw objects are untrusted: validate.ts turns them into the latter.
import type { IPFamily } from './ip.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';
export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string | null;
  creationTimestamp?: string | null;
  ownerReferences?: unknown[];
}

/** Any Kubernetes object as read from a manifest or the API. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

// ---- validated forms -------------------------------------------------------------------

export interface ServicePortSpec {
  name: string; // "" when unnamed
  protocol: Protocol;
  port: number;
  targetPort: number | string | null; // number, named port, or unset
  nodePort: number; // 0 = none
  appProtocol?: string;
}

export interface LoadBalancerIngress {
  ip: string;
  family: IPFamily;
  ipMode: 'VIP' | 'Proxy';
  hostname?: string;
}

export interface ServiceAffinity {
  type: 'None' | 'ClientIP';
  timeoutSeconds: number; // meaningful for ClientIP only
}

export interface Service {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  type: ServiceType;
  headless: boolean; // clusterIP: None
  clusterIPs: string[]; // canonical, primary first; [] = not allocated yet (or headless/ExternalName)
  ipFamilies: IPFamily[];
  ipFamilyPolicy: IPFamilyPolicy;
  ports: ServicePortSpec[];
  selector: Record<string, string> | null; // null = no selector (endpoints managed by hand)
  externalIPs: string[];
  externalName: string;
  loadBalancerIngress: LoadBalancerIngress[];
  loadBalancerSourceRanges: string[]; // canonical CIDRs
  externalTrafficPolicy: TrafficPolicy;
  internalTrafficPolicy: TrafficPolicy;
  healthCheckNodePort: number;
  sessionAffinity: ServiceAffinity;
  publishNotReadyAddresses: boolean;
  trafficDistribution: string; // "" | PreferClose | PreferSameZone | PreferSameNode
  allocateLoadBalancerNodePorts: boolean;
}

export interface EndpointConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface SliceEndpoint {
  addresses: string[]; // canonical
  conditions: EndpointConditions;
  hostname: string;
  nodeName: string;
  zone: string;
  zoneHints: string[];
  nodeHints: string[];
  targetRef?: { kind?: string; namespace?: string; name?: string };
}

export interface SlicePort {
  name: string;
  protocol: Protocol;
  port: number;
  appProtocol?: string;
}

export interface EndpointSlice {
  namespace: string;
  name: string;
  serviceName: string; // label kubernetes.io/service-name
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
  ports: SlicePort[];
  labels: Record<string, string>;
  triggerTime: number | null; // annotation endpoints.kubernetes.io/last-change-trigger-time, ms since epoch
}

export interface NodeAddress {
  type: string; // InternalIP, ExternalIP, Hostname, ...
  address: string;
}

export interface Node {
  name: string;
  labels: Record<string, string>;
  addresses: NodeAddress[];
  podCIDRs: string[];
  deleting: boolean; // deletionTimestamp set
  taints: { key: string; effect: string; value?: string }[];
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const DEFAULT_AFFINITY_TIMEOUT = 10800;
