// The ipvs benchmark inside the user-mode-Linux guest (see guest-bench.ts for the host side).
// Per mode, a fresh lab of network namespaces (test/kernel/ipvs/lab.ts: node, two pods, a
// client); the mode's worker programs the node namespace and reports its sync figures; at
// each size, first-packet latency is measured from the client to the first and the last
// Service and, as the reference, straight to a pod, by the bench's traffic measurement
// (src/bench/traffic.ts, which also times a 64-byte round trip on a kept-alive connection and
// CPU per connection; the pods run its echo server). Environment: BENCH_SIZES (1000,10000),
// BENCH_ENDPOINTS (10), BENCH_MODES (ipvs,iptables-legacy), BENCH_CONNECTS (200),
// BENCH_ROUNDS (1), BENCH_PARTIALS (3). Everything goes to /run/out/bench.json.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pidsIn } from '../../src/bench/topology.js';
import { measureTraffic, type TrafficSite } from '../../src/bench/traffic.js';
import { Lab, OUT, type Role } from '../../test/kernel/ipvs/lab.js';
import { PROJECT_ROOT } from '../../test/kernel/uml/launcher.js';
import { serviceIP } from '../nftables/services.js';

const env = process.env;
const sizes = (env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const E = Number(env.BENCH_ENDPOINTS ?? 10);
const modes = (env.BENCH_MODES ?? 'ipvs,iptables-legacy').split(',');
const connects = Number(env.BENCH_CONNECTS ?? 200);
const dist = join(PROJECT_ROOT, 'dist');

const out = {
  guestKernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  sizes,
  endpoints: E,
  connects,
  rows: [] as Record<string, unknown>[],
  latency: [] as Record<string, unknown>[],
  errors: [] as string[],
  modeMs: {} as Record<string, number>,
};
const save = () => writeFileSync(join(OUT, 'bench.json'), JSON.stringify(out, null, 1));
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Runs argv inside the lab namespace `role`, allowed to run there by the netns guard. */
function inLab(lab: Lab, role: Role, argv: string[], extraEnv: Record<string, string> = {}) {
  const names = (['node', 'pod1', 'pod2', 'client'] as Role[]).map((r) => lab.ns(r)).join(',');
  return spawn('ip', ['netns', 'exec', lab.ns(role), ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...env, KPROXY_TEST_NETNS: names, ...extraEnv } });
}

/** The lab as a place to measure traffic: the client in its client namespace, the server side in the others. */
function site(lab: Lab): TrafficSite {
  return {
    async runClient(argv) {
      const c = inLab(lab, 'client', argv);
      let text = '';
      let err = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      c.stdin.end();
      const code = await new Promise<number | null>((r) => c.on('close', r));
      if (code !== 0) throw new Error(`bench client exited ${code}: ${err.trim().slice(0, 500)}`);
      return text;
    },
    serverPids: async () => (await Promise.all((['node', 'pod1', 'pod2'] as Role[]).map((r) => pidsIn(lab.ns(r))))).flat(),
  };
}

async function latency(lab: Lab, mode: string, n: number): Promise<void> {
  const first = `${serviceIP(0)}:80`;
  const last = `${serviceIP(n - 1)}:80`;
  const t = await measureTraffic(site(lab), { first, last, connects, requests: 5 * connects, cpuConnections: connects });
  const pct = (s: { p50: number; p99: number }) => ({ p50Us: Math.round(s.p50), p99Us: Math.round(s.p99) });
  out.latency.push({ mode, services: n, first: pct(t.firstPacket.first), last: pct(t.firstPacket.last), direct: pct(t.firstPacket.direct), n: connects, traffic: t });
  say(`${mode} ${n}: latency ${JSON.stringify(out.latency.at(-1))}`);
}

async function benchMode(mode: string): Promise<void> {
  const lab = new Lab(mode === 'ipvs' ? 'bv' : 'bi', { echoPods: true });
  try {
    await lab.build();
    await lab.podsServing();
    // The client reaches Services (and, for the reference, the pods) through the node.
    await lab.inNode(['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    const argv =
      mode === 'ipvs'
        ? [process.execPath, join(dist, 'bench', 'ipvs', 'worker.js'), sizes.join(','), String(E)]
        : [process.execPath, join(dist, 'bench', 'iptables', 'worker.js'), mode, sizes.join(','), String(E), '0'];
    const w = inLab(lab, 'node', argv, { ROUNDS: env.BENCH_ROUNDS ?? '1', PARTIALS: env.BENCH_PARTIALS ?? '3' });
    let err = '';
    w.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-2000);
      process.stdout.write(d);
    });
    for await (const line of createInterface({ input: w.stdout })) {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o.ready === 'number') {
        await latency(lab, mode, o.ready).catch((e: Error) => out.errors.push(`${mode} ${o.ready}: ${e.message}`));
        w.stdin.write('go\n');
        continue;
      }
      out.rows.push(o);
      say(`${mode}: ${line}`);
      save();
    }
    const code = w.exitCode ?? (await new Promise<number | null>((r) => w.on('close', r)));
    if (code !== 0) throw new Error(`worker exited ${code}: ${err.trim()}`);
  } finally {
    await lab.destroy();
  }
}

for (const mode of modes) {
  const t0 = Date.now();
  try {
    await benchMode(mode);
  } catch (e) {
    out.errors.push(`${mode}: ${(e as Error).message}`);
    say(`${mode} FAILED: ${(e as Error).message}`);
  }
  out.modeMs[mode] = Date.now() - t0;
  save();
}
