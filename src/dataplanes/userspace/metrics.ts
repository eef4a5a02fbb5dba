// The userspace proxy's own metrics, on kproxy's registry. Connection and session counts
// are plain numbers read at scrape time, so the hot path never touches prom-client.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface Live {
  tcpConnections: number;
  udpSessions: number;
  listeners: number;
}

export class UserspaceMetrics {
  readonly live: Live = { tcpConnections: 0, udpSessions: 0, listeners: 0 };
  /** A connect to a backend failed and another try followed (or the tries ran out). */
  readonly retries: Counter<'reason'>;
  /** New connections or sessions not proxied: no_endpoints (refused), no_usable_endpoints / source_range (dropped), all_failed. */
  readonly rejected: Counter<'reason'>;
  /** Proxied connections cut by kproxy itself: splice_thread_stopped (the pump thread died). */
  readonly failed: Counter<'reason'>;
  /** Connections held by worker processes (workers.ts), added at scrape time. */
  extraTcpConnections: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    const live = this.live;
    const extra = () => this.extraTcpConnections();
    this.retries = new Counter({
      name: 'kproxy_userspace_retries_total',
      help: 'Backend connects that failed (refused, timed out, error) and were retried on another endpoint',
      labelNames: ['reason'],
      registers,
    });
    this.failed = new Counter({
      name: 'kproxy_userspace_failed_connections_total',
      help: 'Proxied TCP connections that kproxy had to cut, by reason (splice_thread_stopped: the thread that copied them died)',
      labelNames: ['reason'],
      registers,
    });
    this.rejected = new Counter({ name: 'kproxy_userspace_rejected_total', help: 'New connections or UDP sessions that were not proxied, by reason', labelNames: ['reason'], registers });
    new Gauge({
      name: 'kproxy_userspace_tcp_connections',
      help: 'TCP connections being proxied now',
      registers,
      collect() {
        this.set(live.tcpConnections + extra());
      },
    });
    new Gauge({
      name: 'kproxy_userspace_udp_sessions',
      help: 'UDP client sessions open now',
      registers,
      collect() {
        this.set(live.udpSessions);
      },
    });
    new Gauge({
      name: 'kproxy_userspace_listeners',
      help: 'Sockets listening on service addresses',
      registers,
      collect() {
        this.set(live.listeners);
      },
    });
  }
}
