// A Service's DNS records in zone-file form ("name TTL IN TYPE data"), for its detail view.
import ipaddr from 'ipaddr.js';
import { serviceRecords } from '../dns/records.js';
import type { ResourceRecord } from '../dns/wire.js';
import type { ProxyState } from '../model/types.js';

const TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 16: 'TXT', 28: 'AAAA', 33: 'SRV' };

function dataText(rr: ResourceRecord): string {
  const d = rr.data;
  switch (d.type) {
    case 1:
    case 28:
      return ipaddr.fromByteArray([...d.address]).toString();
    case 2:
    case 5:
    case 12:
      return `${d.target}.`;
    case 16:
      return JSON.stringify(d.text);
    case 33:
      return `${d.priority} ${d.weight} ${d.port} ${d.target}.`;
    case 6:
      return `${d.mname}. ${d.rname}. ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
  }
}

export function recordLines(state: ProxyState, namespace: string, name: string, zone: string, ttl: number): string[] {
  const view = state.dns.get(`${namespace}/${name}`);
  if (!view) return [];
  return serviceRecords(view, { zone, ttl }).map((rr) => `${rr.name}. ${rr.ttl} IN ${TYPES[rr.data.type] ?? rr.data.type} ${dataText(rr)}`);
}
