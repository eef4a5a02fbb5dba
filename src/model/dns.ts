// What the cluster DNS publishes for one Service, decided here so that the DNS server reads
// no slice conditions itself (the Kubernetes DNS-Based Service Discovery specification,
// schema 1.1.0): a ClusterIP Service publishes its cluster IPs; a headless one publishes its
// endpoints that are ready, or all of them with publishNotReadyAddresses (or the annotation
// the specification still honours); an ExternalName Service its name.
import type { EndpointSlice, Protocol, Service } from '../api/types.js';

/** The annotation the specification still honours as "publish not-ready addresses". */
export const TOLERATE_UNREADY_ANNOTATION = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

export interface DnsPort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
}

/** One published endpoint of a headless Service: its hostname (may be "") and addresses. */
export interface DnsEndpoint {
  readonly hostname: string;
  readonly addresses: readonly string[];
  /** The endpoint's own port of each named Service port (clients connect to it directly). */
  readonly ports: readonly DnsPort[];
}

export type DnsService =
  | { readonly kind: 'ExternalName'; readonly namespace: string; readonly name: string; readonly externalName: string }
  | { readonly kind: 'ClusterIP'; readonly namespace: string; readonly name: string; readonly clusterIPs: readonly string[]; readonly ports: readonly DnsPort[] }
  | { readonly kind: 'Headless'; readonly namespace: string; readonly name: string; readonly endpoints: readonly DnsEndpoint[] };

export function dnsView(svc: Service, slices: readonly EndpointSlice[]): DnsService {
  const { namespace, name } = svc;
  if (svc.type === 'ExternalName') return { kind: 'ExternalName', namespace, name, externalName: svc.externalName };
  const named = svc.ports.filter((p) => p.name !== '');
  if (!svc.headless) return { kind: 'ClusterIP', namespace, name, clusterIPs: svc.clusterIPs, ports: named.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })) };

  const publishAll = svc.publishNotReadyAddresses || svc.annotations[TOLERATE_UNREADY_ANNOTATION] === 'true';
  const endpoints: DnsEndpoint[] = [];
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    for (const ep of slice.endpoints) {
      if ((!ep.conditions.ready && !publishAll) || ep.addresses.length === 0) continue;
      endpoints.push({
        hostname: ep.hostname,
        addresses: ep.addresses,
        // The port the endpoint listens on: the slice's port of the same name, else the Service's.
        ports: named.map((p) => ({ name: p.name, protocol: p.protocol, port: slice.ports.find((x) => x.name === p.name && x.protocol === p.protocol)?.port ?? p.port })),
      });
    }
  }
  return { kind: 'Headless', namespace, name, endpoints };
}
