// The records one Service contributes to the cluster zone, following the Kubernetes
// DNS-Based Service Discovery specification, schema 1.1.0 (kubernetes/dns,
// docs/specification.md): sections 2.3 (ClusterIP), 2.4 (headless), 2.5 (ExternalName).
import ipaddr from 'ipaddr.js';
import type { DnsService } from '../model/dns.js';
import type { ResourceRecord } from './wire.js';

/** RFC 2782 priority and weight: the specification leaves them open; one tier, equal weights. */
const SRV_PRIORITY = 0;
const SRV_WEIGHT = 100;

export interface RecordOptions {
  zone: string;
  ttl: number;
}

/** `<service>.<ns>.svc.<zone>` */
export function serviceName(svc: { name: string; namespace: string }, zone: string): string {
  return `${svc.name}.${svc.namespace}.svc.${zone}`.toLowerCase();
}

/** The records of one Service, from the view the model made of it. */
export function serviceRecords(view: DnsService, o: RecordOptions): ResourceRecord[] {
  const base = serviceName(view, o.zone);
  const out: ResourceRecord[] = [];
  const rr = (name: string, data: ResourceRecord['data']) => out.push({ name, ttl: o.ttl, data });

  switch (view.kind) {
    case 'ExternalName':
      rr(base, { type: 5, target: view.externalName });
      return out;
    case 'ClusterIP':
      // No cluster IP allocated yet: nothing to publish.
      for (const ip of view.clusterIPs) {
        rr(base, addressData(ip));
        rr(reverseName(ip), { type: 12, target: base });
      }
      if (view.clusterIPs.length > 0) for (const p of view.ports) rr(srvName(p.name, p.protocol, base), { type: 33, priority: SRV_PRIORITY, weight: SRV_WEIGHT, port: p.port, target: base });
      return out;
    case 'Headless': {
      const seen = new Set<string>();
      for (const ep of view.endpoints) {
        // The specification's hostname: the endpoint's own, else a system-assigned one (its
        // first address with dashes, as other cluster DNS servers spell it).
        const host = (ep.hostname || dashed(ep.addresses[0])).toLowerCase();
        const hostName = `${host}.${base}`;
        for (const ip of ep.addresses) {
          const id = `${host}/${ip}`;
          if (seen.has(id)) continue; // the same endpoint in two slices (a slice being replaced)
          seen.add(id);
          rr(base, addressData(ip));
          rr(hostName, addressData(ip));
          rr(reverseName(ip), { type: 12, target: hostName });
        }
        if (seen.has(`srv/${hostName}`)) continue;
        seen.add(`srv/${hostName}`);
        for (const p of ep.ports) rr(srvName(p.name, p.protocol, base), { type: 33, priority: SRV_PRIORITY, weight: SRV_WEIGHT, port: p.port, target: hostName });
      }
      return out;
    }
  }
}

function srvName(port: string, protocol: string, base: string): string {
  return `_${port}._${protocol}.${base}`.toLowerCase();
}

function addressData(ip: string): ResourceRecord['data'] {
  const bytes = Buffer.from(ipaddr.parse(ip).toByteArray());
  return bytes.length === 4 ? { type: 1, address: bytes } : { type: 28, address: bytes };
}

/** "10.1.2.3" → "10-1-2-3"; "2001:db8::1" → "2001-db8--1". */
export function dashed(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** The in-addr.arpa / ip6.arpa name of an address (spec 2.3.3: IPv6 as reversed nibbles). */
export function reverseName(ip: string): string {
  const bytes = ipaddr.parse(ip).toByteArray();
  if (bytes.length === 4) return [bytes[3], bytes[2], bytes[1], bytes[0], 'in-addr.arpa'].join('.'); // flat, not a rope: the zone keeps it
  const nibbles: string[] = [];
  for (let i = bytes.length - 1; i >= 0; i--) nibbles.push((bytes[i] & 15).toString(16), (bytes[i] >> 4).toString(16));
  nibbles.push('ip6.arpa');
  return nibbles.join('.');
}

/** The address a full reverse name stands for, or null ("3.2.1.10.in-addr.arpa" → "10.1.2.3"). */
export function addressOfReverse(name: string): string | null {
  const labels = name.split('.');
  if (name.endsWith('.in-addr.arpa') && labels.length === 6) {
    const octets = labels.slice(0, 4).reverse();
    if (!octets.every((x) => /^(0|[1-9]\d{0,2})$/.test(x) && Number(x) < 256)) return null;
    return octets.join('.');
  }
  if (name.endsWith('.ip6.arpa') && labels.length === 34) {
    const nibbles = labels.slice(0, 32).reverse();
    if (!nibbles.every((x) => /^[0-9a-f]$/.test(x))) return null;
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(nibbles.slice(i, i + 4).join(''));
    return ipaddr.parse(groups.join(':')).toString();
  }
  return null;
}
