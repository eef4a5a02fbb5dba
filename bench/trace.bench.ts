// `npm run bench:trace`: trace one packet through the ruleset of 10,000 Services.
//  1. In one process, parsing the ruleset once: parse time and per-trace time separately
//     (target: parse + one trace ≤ 50 ms) and, as a reference measured in the same run on
//     the same text, the cost of merely splitting it into words — robust to a busy machine.
//  2. `kproxy trace` cold: a fresh process per run against the same ruleset saved to a file,
//     wall and CPU time. Target ≤ 150 ms, or ≤ 1.5 × the reference: a bare `node -e ''` plus
//     reading (with `kproxy trace`'s own reader), parsing and tracing the same file in a process
//     that is already running (the floor any cold reader of the text pays). The same warm work
//     with the file read whole and decoded as UTF-8 (the reference before the reader read in
//     pieces) is printed beside it.
// Usage: node dist/bench/trace.bench.js [services=10000] [endpointsPerService=10]
// buildRuleset() and traceColdStart() are exported for other benchmarks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../src/config/load.js';
import { compileText } from '../src/dataplanes/nftables/compile.js';
import { rulesetCompiler } from '../src/dataplanes/registry.js';
import { ChangeTracker } from '../src/model/tracker.js';
import { parseNft, traceNft } from '../src/trace/nft/index.js';
import { readRulesetPieces } from '../src/trace/read-text.js';
import { traceJSON, type Packet } from '../src/trace/result.js';

const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** The nftables ruleset of `services` Services (the first 2,768 NodePorts) with `endpoints` endpoints each. */
export function buildRuleset(SERVICES = 10_000, ENDPOINTS = 10): string {
  return compileText(benchState(SERVICES, ENDPOINTS), benchConfig('nftables'));
}

/** The same Services' iptables ruleset (iptables-restore input; scripts/bundle.js trains the code cache on it too). */
export async function buildIptablesRuleset(SERVICES = 10_000, ENDPOINTS = 10): Promise<string> {
  return (await rulesetCompiler('iptables'))!(benchState(SERVICES, ENDPOINTS), benchConfig('iptables'));
}

const benchConfig = <M extends 'nftables' | 'iptables'>(mode: M) => ({ ...defaultConfig(), mode, clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.16.0.0/12'] });

function benchState(SERVICES: number, ENDPOINTS: number) {
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
  return tracker.snapshot();
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

export interface ColdStart {
  /** `kproxy trace --ruleset FILE …` in a fresh process: median wall ms, median CPU ms (user + system). */
  wallMs: number;
  cpuMs: number;
  /** `node -e ''`: the same. */
  nodeWallMs: number;
  nodeCpuMs: number;
  /** Reading (as `kproxy trace` does), parsing (lazily) and tracing the same packet in this process, already warm: median wall and CPU ms. */
  warmMs: number;
  warmCpuMs: number;
  /** The same with the file read whole and decoded as UTF-8: median CPU ms. */
  warmWholeUtf8CpuMs: number;
}

/** CPU time (ms) of this process's waited-for children so far (cutime + cstime, Linux). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // USER_HZ = 100
}

function timedSpawn(args: string[]): [number, number] {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${String(r.stderr).slice(0, 500)}`);
  return [wall, childrenCpuMs() - c0];
}

/**
 * `kproxy trace` from a cold start against a saved ruleset, beside `node -e ''` and the same
 * work in a warm process. packetFlags: --src/--dst/--dport/... as `kproxy trace` takes them.
 */
export function traceColdStart(rulesetFile: string, packet: Packet, localAddress: string, runs = 5): ColdStart {
  const kproxy = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kproxy.js');
  const flags = [
    'trace',
    '--proxy-mode',
    'nftables',
    '--ruleset',
    rulesetFile,
    '--src',
    packet.src,
    '--dst',
    packet.dst,
    '--dport',
    String(packet.dport),
    '--protocol',
    packet.protocol,
    '--local-address',
    localAddress,
  ];
  const cold: [number, number][] = [];
  const bare: [number, number][] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    cold.push(timedSpawn([kproxy, ...flags]));
    bare.push(timedSpawn(['-e', '']));
  }
  const warmCpu: number[] = [];
  const wholeCpu: number[] = [];
  const cpuOf = (fn: () => void): number => {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  for (let i = 0; i < runs + 2; i++) {
    warmCpu.push(cpuOf(() => warm.push(time(() => traceNft(parseNft(readRulesetPieces(rulesetFile), { lazy: true }), packet, { localAddresses: [localAddress] }))[1])));
    wholeCpu.push(cpuOf(() => traceNft(parseNft(readFileSync(rulesetFile, 'utf8'), { lazy: true }), packet, { localAddresses: [localAddress] })));
  }
  return {
    wallMs: median(cold.map((c) => c[0])),
    cpuMs: median(cold.map((c) => c[1])),
    nodeWallMs: median(bare.map((c) => c[0])),
    nodeCpuMs: median(bare.map((c) => c[1])),
    warmMs: median(warm.slice(2)),
    warmCpuMs: median(warmCpu.slice(2)),
    warmWholeUtf8CpuMs: median(wholeCpu.slice(2)),
  };
}

async function main(): Promise<void> {
  const SERVICES = Number(process.argv[2] ?? 10_000);
  const ENDPOINTS = Number(process.argv[3] ?? 10);
  console.log(
    `bench:trace (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores, shared with other work: figures vary from run to run)`,
  );
  const [text, compileMs] = time(() => buildRuleset(SERVICES, ENDPOINTS));
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

  // 2. Cold: a fresh `kproxy trace` process per run.
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-trace-'));
  try {
    const file = join(dir, 'ruleset.nft');
    writeFileSync(file, text);
    const c = traceColdStart(file, packet(SERVICES - 1), '192.168.0.2');
    const ref = c.nodeWallMs + c.warmMs;
    const refCpu = c.nodeCpuMs + c.warmCpuMs;
    console.log(
      `\nkproxy trace, cold (median of 5 fresh processes, ruleset from a file): ${c.wallMs.toFixed(0)} ms wall, ${c.cpuMs.toFixed(0)} ms CPU\n` +
        `  reference: node -e '' ${c.nodeWallMs.toFixed(0)} ms wall (${c.nodeCpuMs.toFixed(0)} ms CPU) + read, parse and trace in a warm process ${c.warmMs.toFixed(0)} ms wall (${c.warmCpuMs.toFixed(0)} ms CPU)\n` +
        `  ratio: wall ${(c.wallMs / ref).toFixed(2)}×, CPU ${(c.cpuMs / refCpu).toFixed(2)}× the reference (target ≤ 1.5×: ${c.wallMs / ref <= 1.5 ? 'met' : 'NOT met'} wall, ${c.cpuMs / refCpu <= 1.5 ? 'met' : 'NOT met'} CPU); ` +
        `≤ 150 ms: ${c.wallMs <= 150 ? 'met' : 'NOT met'}\n` +
        `  (with the file read whole and decoded as UTF-8 in the warm part, as this reference did before: ${c.warmWholeUtf8CpuMs.toFixed(0)} ms CPU, ` +
        `ratio ${(c.cpuMs / (c.nodeCpuMs + c.warmWholeUtf8CpuMs)).toFixed(2)}× CPU)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
