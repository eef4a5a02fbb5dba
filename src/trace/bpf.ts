// The ebpf mode's tracer: a connection made by a process in the load-balanced cgroup is
// translated by the connect()/sendmsg() program before any packet exists. The answer comes
// from the decoded maps: the Service element, then one branch per backend slot, each with
// probability 1/count (the program draws a slot uniformly at random).
import type { DecodedService } from '../dataplanes/ebpf/decode.js';
import { Fraction } from './fraction.js';
import type { Outcome, Packet, TraceResult } from './result.js';

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The socket-level result, or null when the destination is not a Service in the maps. */
export function traceSocket(services: readonly DecodedService[], pkt: Packet, names: ReadonlyMap<string, string> = new Map()): TraceResult | null {
  const f = pkt.family === 'IPv4' ? '4' : '6';
  const proto = pkt.protocol.toUpperCase();
  const s =
    services.find((x) => x.family === f && x.ip === pkt.dst && x.port === pkt.dport && x.proto === proto) ??
    // The second lookup: a ClusterIP on a port the Service does not have (refused).
    services.find((x) => x.family === f && x.ip === pkt.dst && x.port === 0 && x.proto === 'ANY');
  if (!s) return null;
  const id = `${hostPort(s.ip, s.port)}/${s.proto}`;
  const prog = pkt.protocol === 'udp' ? `kproxy_conn${f} (connected UDP) or kproxy_send${f} (each datagram)` : `kproxy_conn${f}`;
  const chain = pkt.protocol === 'udp' ? `kproxy_send${f}` : `kproxy_conn${f}`;
  const head = {
    depth: 0,
    text: `${prog}: services[${id}]${names.get(id) ? ` (${names.get(id)})` : ''} → svc_id ${s.svcId}, set ${s.setId}, ${s.backends.length} backend(s)`,
    step: { table: 'bpf', chain, rule: `services[${id}] -> set ${s.setId} count ${s.backends.length}` },
  };
  const notes = [
    'ebpf mode: this is what happens to a connection made by a process in the --bpf-cgroup-root cgroup; the address is rewritten at connect()/sendmsg(), so no packet to the Service address exists and no conntrack entry is made.',
  ];
  if (s.affinitySeconds > 0) notes.push(`ClientIP affinity: later connections from the same Pod (network namespace) within ${s.affinitySeconds}s go to the backend chosen first, while it stays in the set.`);
  let outcomes: Outcome[];
  if (s.backends.length === 0) {
    const reject = s.noBackends === 'ECONNREFUSED';
    const why = s.proto === 'ANY' ? `not a port of the Service at ${s.ip}: the call fails with ECONNREFUSED` : `no backends: the call fails with ${s.noBackends ?? 'EPERM'}`;
    outcomes = [{
      probability: Fraction.ONE,
      verdict: reject ? 'REJECT' : 'DROP',
      endpoint: null,
      masquerade: false,
      events: [head, { depth: 1, text: why, step: { table: 'bpf', chain, rule: `no backends -> ${s.noBackends ?? 'EPERM'}` } }],
    }];
  } else {
    const p = Fraction.of(1, s.backends.length);
    outcomes = s.backends.map((b) => ({
      probability: p,
      verdict: 'DNAT' as const,
      endpoint: { ip: b.ip, port: b.port },
      masquerade: false,
      events: [head, { depth: 1, text: `slot ${b.slot} of ${s.backends.length} (random, weight ${b.weight}) → ${hostPort(b.ip, b.port)}; getpeername() and replies still show ${id.replace(/\/.*/, '')}`, step: { table: 'bpf', chain, rule: `backends[${s.setId}, ${b.slot}] -> ${hostPort(b.ip, b.port)}` } }],
    }));
  }
  return { packet: pkt, notes, outcomes };
}
