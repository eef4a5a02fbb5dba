// The ebpf mode's tracer. Its ruleset text (what `kproxy rules --proxy-mode ebpf` prints and
// the /rules page serves) is the decoded Service maps, a marker line, then the nftables part
// for the external entry points. A connection made by a process in the load-balanced cgroup
// is translated by the connect()/sendmsg() program before any packet exists: a destination
// in the maps is answered here — the Service element, then one branch per backend slot, each
// with probability 1/count (the program draws a slot uniformly at random); any other goes to
// the nftables interpreter with the nftables part.
import { Fraction } from './fraction.js';
import type { Outcome, Packet, TraceResult } from './result.js';

/** One Service element of the maps, as the text shows it. */
export interface SocketServiceView {
  family: '4' | '6';
  proto: string;
  ip: string;
  port: number;
  svcId: number;
  setId: number;
  affinitySeconds: number;
  noBackends: 'ECONNREFUSED' | 'EPERM' | null;
  backends: { slot: number; ip: string; port: number; weight: number }[];
}

/** The marker line the ebpf compiler writes between the maps and the nftables part. */
export const NFT_PART_MARKER = '# NodePort, externalIPs and LoadBalancer IPs: the nftables ruleset ebpf mode applies';

export class MapsSyntaxError extends Error {}

/** Splits the mode's text and parses its maps part. */
export function parseEbpfText(text: string): { services: SocketServiceView[]; names: Map<string, string>; nftText: string } {
  const at = text.indexOf(NFT_PART_MARKER);
  const mapsPart = at < 0 ? text : text.slice(0, at);
  const nftText = at < 0 ? '' : text.slice(at + NFT_PART_MARKER.length);
  const services: SocketServiceView[] = [];
  const names = new Map<string, string>();
  let cur: SocketServiceView | null = null;
  mapsPart.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    let m = /^service (\[([^\]]+)\]|([^:\s]+)):(\d+)\/(\w+)(?: (\S+))? svc_id (\d+) set (\d+) count (\d+)(?: affinity ClientIP (\d+)s)?$/.exec(line);
    if (m) {
      const ip = m[2] ?? m[3];
      cur = {
        family: ip.includes(':') ? '6' : '4',
        proto: m[5],
        ip,
        port: Number(m[4]),
        svcId: Number(m[7]),
        setId: Number(m[8]),
        affinitySeconds: Number(m[10] ?? 0),
        noBackends: null,
        backends: [],
      };
      if (m[6]) names.set(`${m[1]}:${m[4]}/${m[5]}`, m[6]);
      services.push(cur);
      return;
    }
    const svc = cur as SocketServiceView | null;
    if (svc && (m = /^ {2}no backends: connect\(\) fails with (ECONNREFUSED|EPERM)$/.exec(line))) {
      svc.noBackends = m[1] as 'ECONNREFUSED' | 'EPERM';
      return;
    }
    if (svc && (m = /^ {2}slot (\d+) (?:\[([^\]]+)\]|([^:\s]+)):(\d+) weight (\d+)$/.exec(line))) {
      svc.backends.push({ slot: Number(m[1]), ip: m[2] ?? m[3], port: Number(m[4]), weight: Number(m[5]) });
      return;
    }
    throw new MapsSyntaxError(`line ${i + 1}: not a line of the ebpf maps: ${line}`);
  });
  return { services, names, nftText };
}

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The socket-level result, or null when the destination is not a Service in the maps. */
export function traceSocket(services: readonly SocketServiceView[], pkt: Packet, names: ReadonlyMap<string, string> = new Map()): TraceResult | null {
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
  if (s.affinitySeconds > 0)
    notes.push(`ClientIP affinity: later connections from the same Pod (network namespace) within ${s.affinitySeconds}s go to the backend chosen first, while it stays in the set.`);
  let outcomes: Outcome[];
  if (s.backends.length === 0) {
    const reject = s.noBackends === 'ECONNREFUSED';
    const why = s.proto === 'ANY' ? `not a port of the Service at ${s.ip}: the call fails with ECONNREFUSED` : `no backends: the call fails with ${s.noBackends ?? 'EPERM'}`;
    outcomes = [
      {
        probability: Fraction.ONE,
        verdict: reject ? 'REJECT' : 'DROP',
        endpoint: null,
        masquerade: false,
        events: [head, { depth: 1, text: why, step: { table: 'bpf', chain, rule: `no backends -> ${s.noBackends ?? 'EPERM'}` } }],
      },
    ];
  } else {
    const p = Fraction.of(1, s.backends.length);
    outcomes = s.backends.map((b) => ({
      probability: p,
      verdict: 'DNAT' as const,
      endpoint: { ip: b.ip, port: b.port },
      masquerade: false,
      events: [
        head,
        {
          depth: 1,
          text: `slot ${b.slot} of ${s.backends.length} (random, weight ${b.weight}) → ${hostPort(b.ip, b.port)}; getpeername() and replies still show ${id.replace(/\/.*/, '')}`,
          step: { table: 'bpf', chain, rule: `backends[${s.setId}, ${b.slot}] -> ${hostPort(b.ip, b.port)}` },
        },
      ],
    }));
  }
  return { packet: pkt, notes, outcomes };
}
