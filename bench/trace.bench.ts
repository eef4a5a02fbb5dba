// `npm run bench:trace`: trace one packet through the ruleset of 10,000 Services, parsing the
// ruleset once. Reports parse time and per-trace time separately (target: parse + one trace
// ≤ 50 ms), and, as a reference measured in the same run on the same text, the cost of merely
// splitting it into words — the ratio is robust to a busy machine.
// Usage: node dist/bench/trace.bench.js [services=10000] [endpointsPerService=10]
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../src/config/load.js';
import { compileText } from '../src/dataplanes/nftables/compile.js';
import { ChangeTracker } from '../src/model/tracker.js';
import { parseNft, traceNft } from '../src/trace/nft/index.js';
import { traceJSON, type Packet } from '../src/trace/result.js';

const SERVICES = Number(process.argv[2] ?? 10_000);
const ENDPOINTS = Number(process.argv[3] ?? 10);

const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function buildRuleset(): string {
  const tracker = new ChangeTracker({ nodeName: 'bench-node', machineAddresses: ['192.168.0.2'] });
  for (let s = 0; s < SERVICES; s++) {
    tracker.upsert({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'bench', name: `svc-${s}` },
      // The node-port range holds 2,768 ports: the first Services get one, the rest are ClusterIP.
      spec:
        s < 2768
          ? { type: 'NodePort', clusterIP: ip(172, 0x100000 + s), ports: [{ name: 'http', port: 80, nodePort: 30000 + s, protocol: 'TCP' }] }
          : { clusterIP: ip(172, 0x100000 + s), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    const endpoints = Array.from({ length: ENDPOINTS }, (_, e) => ({ addresses: [ip(10, s * ENDPOINTS + e + 1)], nodeName: e === 0 ? 'bench-node' : 'other' }));
    tracker.upsert({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'bench', name: `svc-${s}-1`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  const cfg = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.16.0.0/12'] };
  return compileText(tracker.snapshot(), cfg);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const [text, compileMs] = time(buildRuleset);
const lines = text.split('\n').length;
console.log(`ruleset: ${SERVICES} Services × ${ENDPOINTS} endpoints, ${(text.length / 1e6).toFixed(2)} MB, ${lines} lines (compiled in ${compileMs.toFixed(0)} ms; not part of the target)`);

// The first parse in a fresh process is the one `kproxy trace` pays: report it on its own.
const [rs, firstParse] = time(() => parseNft(text, { lazy: true }));
const parses: number[] = [];
const refs: number[] = [];
for (let i = 0; i < 5; i++) {
  refs.push(time(() => text.split(/\s+/).length)[1]);
  parses.push(time(() => parseNft(text, { lazy: true }))[1]);
}

const packet = (s: number): Packet => ({ family: 'IPv4', protocol: 'tcp', src: '10.200.0.9', dst: ip(172, 0x100000 + s), dport: 80, sport: 40000 });
const local = { localAddresses: ['192.168.0.2'] };
// The first trace parses the chains and sets it reaches (the rest of the ruleset never is).
const [first, firstTrace] = time(() => traceNft(rs, packet(SERVICES - 1), local));
const check = traceJSON(first);
if (check.verdict !== 'DNAT' || check.endpoints.length !== ENDPOINTS) throw new Error(`bench sanity: ${JSON.stringify(check).slice(0, 300)}`);
const traceFirst: number[] = [];
const traceLast: number[] = [];
for (let i = 0; i < 200; i++) {
  traceFirst.push(time(() => traceNft(rs, packet(0), local))[1]);
  traceLast.push(time(() => traceNft(rs, packet(SERVICES - 1), local))[1]);
}

const parseMs = median(parses);
const refMs = median(refs);
console.log(
  `parse: first ${firstParse.toFixed(1)} ms, median of 5 more ${parseMs.toFixed(1)} ms; reference (split the text into words) ${refMs.toFixed(1)} ms → parse/reference ${(parseMs / refMs).toFixed(2)}×`,
);
console.log(
  `trace one packet (${ENDPOINTS} branches explored): first trace (parses what it reaches) ${firstTrace.toFixed(1)} ms; median of 200: first Service ${median(traceFirst).toFixed(3)} ms, last Service ${median(traceLast).toFixed(3)} ms`,
);
const total = firstParse + firstTrace;
console.log(
  `parse once + trace one packet, cold: ${total.toFixed(1)} ms = ${(total / refMs).toFixed(2)}× reference (target ≤ 50 ms: ${total <= 50 ? 'met' : 'NOT met'}); warm: ${(parseMs + median(traceLast)).toFixed(1)} ms`,
);
