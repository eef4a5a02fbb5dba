// LoadBalancer metrics, named as MetalLB names them where it has a name (metallb_allocator_*,
// metallb_speaker_announced, metallb_layer2_*), plus kproxy_loadbalancer_announcer: the
// node that announces each address, as every node computes it (MetalLB has no such view).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Announcement } from './announce.js';
import type { PoolUsage } from './assign.js';
import type { AddressCounters } from './l2/protocol.js';

export class LoadBalancerMetrics {
  private readonly addressesTotal: Gauge<'pool'>;
  private readonly ipv4Total: Gauge<'pool'>;
  private readonly ipv6Total: Gauge<'pool'>;
  private readonly inUse: Gauge<'pool'>;
  private readonly ipv4InUse: Gauge<'pool'>;
  private readonly ipv6InUse: Gauge<'pool'>;
  private readonly servicesAllocated: Gauge<'pool'>;
  private readonly announced: Gauge<'service' | 'protocol' | 'node' | 'ip'>;
  private readonly announcer: Gauge<'ip' | 'node' | 'pool'>;
  private readonly requests: Counter<'ip'>;
  private readonly responses: Counter<'ip'>;
  private readonly gratuitous: Counter<'ip'>;
  private readonly seen = new Map<string, AddressCounters>();

  constructor(registry: Registry) {
    const r = [registry];
    const g = (name: string, help: string) => new Gauge({ name, help, labelNames: ['pool'] as const, registers: r });
    this.addressesTotal = g('metallb_allocator_addresses_total', 'Number of usable IP addresses, per pool');
    this.ipv4Total = g('metallb_allocator_ipv4_addresses_total', 'Number of usable IPv4 addresses, per pool');
    this.ipv6Total = g('metallb_allocator_ipv6_addresses_total', 'Number of usable IPv6 addresses, per pool');
    this.inUse = g('metallb_allocator_addresses_in_use_total', 'Number of IP addresses in use, per pool');
    this.ipv4InUse = g('metallb_allocator_ipv4_addresses_in_use_total', 'Number of IPv4 addresses in use, per pool');
    this.ipv6InUse = g('metallb_allocator_ipv6_addresses_in_use_total', 'Number of IPv6 addresses in use, per pool');
    this.servicesAllocated = g('metallb_allocator_services_allocated_total', 'Number of services allocated, per pool');
    this.announced = new Gauge({ name: 'metallb_speaker_announced', help: 'Services being announced from this node (desired state)', labelNames: ['service', 'protocol', 'node', 'ip'], registers: r });
    this.announcer = new Gauge({
      name: 'kproxy_loadbalancer_announcer',
      help: 'The node that announces each LoadBalancer address (1 per address), as this node computes it',
      labelNames: ['ip', 'node', 'pool'],
      registers: r,
    });
    const c = (name: string, help: string) => new Counter({ name, help, labelNames: ['ip'] as const, registers: r });
    this.requests = c('metallb_layer2_requests_received', 'Number of layer2 requests received for owned IPs');
    this.responses = c('metallb_layer2_responses_sent', 'Number of layer2 responses sent for owned IPs in response to requests');
    this.gratuitous = c('metallb_layer2_gratuitous_sent', 'Number of gratuitous layer2 packets sent for owned IPs as a result of failovers');
  }

  setUsage(usage: readonly PoolUsage[]): void {
    for (const gauge of [this.addressesTotal, this.ipv4Total, this.ipv6Total, this.inUse, this.ipv4InUse, this.ipv6InUse, this.servicesAllocated]) gauge.reset();
    for (const u of usage) {
      const pool = u.pool;
      this.addressesTotal.set({ pool }, u.total.IPv4 + u.total.IPv6);
      this.ipv4Total.set({ pool }, u.total.IPv4);
      this.ipv6Total.set({ pool }, u.total.IPv6);
      this.inUse.set({ pool }, u.inUse.IPv4 + u.inUse.IPv6);
      this.ipv4InUse.set({ pool }, u.inUse.IPv4);
      this.ipv6InUse.set({ pool }, u.inUse.IPv6);
      this.servicesAllocated.set({ pool }, u.services);
    }
  }

  setAnnouncements(table: ReadonlyMap<string, Announcement>, node: string): void {
    this.announced.reset();
    this.announcer.reset();
    for (const a of table.values()) {
      if (a.node) this.announcer.set({ ip: a.ip, node: a.node, pool: a.pool }, 1);
      if (a.node === node) for (const s of a.services) this.announced.set({ service: s, protocol: 'layer2', node, ip: a.ip }, 1);
    }
  }

  /** The worker reports running totals; counters move by the difference. */
  setCounters(totals: Record<string, AddressCounters>): void {
    for (const [ip, t] of Object.entries(totals)) {
      const before = this.seen.get(ip) ?? { requestsReceived: 0, responsesSent: 0, gratuitousSent: 0 };
      if (t.requestsReceived > before.requestsReceived) this.requests.inc({ ip }, t.requestsReceived - before.requestsReceived);
      if (t.responsesSent > before.responsesSent) this.responses.inc({ ip }, t.responsesSent - before.responsesSent);
      if (t.gratuitousSent > before.gratuitousSent) this.gratuitous.inc({ ip }, t.gratuitousSent - before.gratuitousSent);
      this.seen.set(ip, { ...t });
    }
  }
}
