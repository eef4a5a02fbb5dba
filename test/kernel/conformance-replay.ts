// Replays the flows of ../shared/conformance/kube-proxy-flows.yaml for one proxy mode with real
// packets (conformance.test.ts: nftables, iptables-conformance.test.ts: iptables): kproxy's
// applier programs a node namespace (step by step, partial syncs), and each
// flow's first packet is sent from a namespace that owns its source address. Checked per flow:
// DNAT target ∈ expected endpoints (the endpoint namespace answers with the address it was
// reached on), masquerade (the source address the endpoint saw), REJECT (refused at once),
// DROP (no answer). What a namespace topology cannot express is counted and skipped; the
// report lists it.
//
//   world (sources: 203.0.113.x, 10.0.0.2, 1.2.3.4, …) ── node (192.168.0.2, .1.2, .99.11) ── endpoints (every endpoint IP on lo)
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { defaultConfig } from '../../src/config/load.js';
import type { Config, DetectLocalMode } from '../../src/config/types.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { exec, kernelSkipReason, removeStale, type ClientResult } from './harness.js';
import { CONFORMANCE_FILE, conformanceSkip } from '../helpers/conformance.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const skip = conformanceSkip() || kernelSkipReason();

type Obj = Record<string, any>;
const ROLES = ['node', 'world', 'eps', 'pod1', 'pod2'] as const;
type Role = (typeof ROLES)[number];
/** Endpoints that are also flow sources live in their own namespaces, like real pods. */
const SOURCE_PODS: Role[] = ['pod1', 'pod2'];
const NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11'];

export type ReplayMode = 'nftables' | 'iptables';

export class ConformanceTopology {
  constructor(readonly prefix: string) {}
  ns = (r: Role) => `${this.prefix}-${r}`;
  get env() {
    return { ...process.env, KPROXY_TEST_NETNS: ROLES.map((r) => this.ns(r)).join(',') };
  }
  readonly endpoints = new Set<string>();
  /** Sources no namespace owns: they are Service destinations too, routed to the node. */
  readonly unsendable = new Set<string>();
  /** Endpoint IP → the pod namespace that owns it (endpoints that send flows too). */
  readonly pods = new Map<string, Role>();
  private readonly servers: ReturnType<typeof import('node:child_process').spawn>[] = [];

  async ip(role: Role | null, ...args: string[]) {
    const r = await exec('ip', role ? ['-n', this.ns(role), ...args] : args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }

  async build(sources: string[], endpoints: string[], ports: number[], tests: Obj[]) {
    await removeStale();
    for (const r of ROLES) {
      await this.ip(null, 'netns', 'add', this.ns(r));
      await this.ip(r, 'link', 'set', 'lo', 'up');
    }
    await exec('ip', ['netns', 'exec', this.ns('node'), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await exec('ip', ['netns', 'exec', this.ns('node'), 'sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0']);
    // Many REJECTs to one source in a row: without this, ICMP rate limiting swallows some
    // port-unreachables and a REJECT looks like a 1 s retransmit.
    await exec('ip', ['netns', 'exec', this.ns('node'), 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
    await this.ip(null, 'link', 'add', 'eth-w', 'netns', this.ns('node'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns('world'));
    await this.ip(null, 'link', 'add', 'eth-e', 'netns', this.ns('node'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns('eps'));
    for (const [r, dev] of [
      ['node', 'eth-w'],
      ['node', 'eth-e'],
      ['world', 'eth0'],
      ['eps', 'eth0'],
    ] as const)
      await this.ip(r, 'link', 'set', dev, 'up');
    for (const a of NODE_IPS) await this.ip('node', 'addr', 'add', `${a}/24`, 'dev', 'eth-w');
    await this.ip('node', 'addr', 'add', '10.255.255.1/30', 'dev', 'eth-e');
    await this.ip('world', 'addr', 'add', '192.168.0.100/24', 'dev', 'eth0');
    await this.ip('world', 'route', 'add', 'default', 'via', '192.168.0.2');
    await this.ip('eps', 'addr', 'add', '10.255.255.2/30', 'dev', 'eth0');
    await this.ip('eps', 'route', 'add', 'default', 'via', '10.255.255.1');
    const destinations = new Set(tests.flatMap((t) => t.steps.flatMap((st: Obj) => (st.flows ?? []).map((f: Obj) => f.destIP))));
    for (const s of sources) {
      // Node addresses and loopback are the node namespace's own: flows from them start there.
      if (NODE_IPS.includes(s) || s.startsWith('127.') || !/^\d+\.\d+\.\d+\.\d+$/.test(s)) continue;
      if (endpoints.includes(s)) {
        const role = SOURCE_PODS[this.pods.size];
        if (!role) throw new Error('more endpoint sources than pod namespaces');
        this.pods.set(s, role);
        continue;
      }
      if (destinations.has(s)) {
        this.unsendable.add(s); // e.g. an LB IP as source and destination: see notReplayed
        continue;
      }
      await this.ip('world', 'addr', 'add', `${s}/32`, 'dev', 'eth0');
      await this.ip('node', 'route', 'add', `${s}/32`, 'via', '192.168.0.100');
    }
    let n = 0;
    for (const [ip, role] of this.pods) {
      const dev = `veth-${role}`;
      const link = `10.255.254.${4 * n}`;
      n++;
      await this.ip(null, 'link', 'add', dev, 'netns', this.ns('node'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns(role));
      await this.ip('node', 'link', 'set', dev, 'up');
      await this.ip(role, 'link', 'set', 'eth0', 'up');
      await this.ip('node', 'addr', 'add', `${link.replace(/\d+$/, (x) => String(Number(x) + 1))}/30`, 'dev', dev);
      await this.ip(role, 'addr', 'add', `${link.replace(/\d+$/, (x) => String(Number(x) + 2))}/30`, 'dev', 'eth0');
      await this.ip(role, 'addr', 'add', `${ip}/32`, 'dev', 'lo');
      await this.ip(
        role,
        'route',
        'add',
        'default',
        'via',
        link.replace(/\d+$/, (x) => String(Number(x) + 1)),
      );
      await this.ip(
        'node',
        'route',
        'add',
        `${ip}/32`,
        'via',
        link.replace(/\d+$/, (x) => String(Number(x) + 2)),
      );
    }
    for (const e of endpoints) {
      this.endpoints.add(e);
      if (this.pods.has(e)) continue;
      await this.ip('eps', 'addr', 'add', `${e}/32`, 'dev', 'lo');
      await this.ip('node', 'route', 'add', `${e}/32`, 'via', '10.255.255.2');
    }
    // Unknown destinations leave through the world side (and die there: it does not forward).
    await this.ip('node', 'route', 'add', 'default', 'via', '192.168.0.100');
    const { spawn } = await import('node:child_process');
    for (const role of ['eps', ...this.pods.values()] as Role[]) {
      const addrs = role === 'eps' ? endpoints.filter((e) => !this.pods.has(e)) : [...this.pods].filter(([, r]) => r === role).map(([ip]) => ip);
      const server = spawn(
        'ip',
        ['netns', 'exec', this.ns(role), process.execPath, join(HERE, 'podserver.js'), role, '--tcp', ports.join(','), '--udp', ports.join(','), '--udp-addrs', addrs.join(',')],
        { env: this.env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      this.servers.push(server);
      await new Promise((r) => server.stdout!.once('data', r));
    }
  }

  async batch(role: Role, probes: Obj[]): Promise<ClientResult[][]> {
    if (probes.length === 0) return [];
    const r = await exec('ip', ['netns', 'exec', this.ns(role), process.execPath, join(HERE, 'client.js'), 'batch'], { input: JSON.stringify(probes), env: this.env, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`batch client in ${role}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  async nft(text: string) {
    const r = await exec('ip', ['netns', 'exec', this.ns('node'), 'nft', '-f', '-'], { input: text });
    if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
  }

  async flushConntrack() {
    await exec('ip', ['netns', 'exec', this.ns('node'), 'conntrack', '-F']);
  }

  async destroy() {
    for (const server of this.servers) {
      try {
        if (server.pid) process.kill(server.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const r of ROLES) {
      const pids = (await exec('ip', ['netns', 'pids', this.ns(r)])).stdout.split(/\s+/).filter(Boolean).map(Number);
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await exec('ip', ['netns', 'del', this.ns(r)]);
    }
  }
}

export interface Flow {
  test: string;
  name: string;
  proto: string;
  src: string;
  dst: string;
  port: number;
  expected: { endpoints?: string[]; verdict?: string; masq: boolean };
}

function configFor(t: Obj, mode: ReplayMode, defaults: Obj): Config {
  const c = t.config ?? {};
  const det = (c.localDetector?.mode ?? 'ClusterCIDR') as DetectLocalMode;
  const cfg: Config = {
    ...defaultConfig(),
    mode,
    clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'],
    detectLocalMode: det,
    masqueradeAll: c.masqueradeAll ?? false,
    nodePortAddresses: c.nodePortAddresses ?? (mode === 'nftables' ? ['192.168.0.2/32', '2001:db8::1/128'] : []),
    serviceClusterIPRange: ['172.30.0.0/16', 'fd00:10:96::/112'],
  };
  if (mode === 'iptables') {
    const ipt = defaults.proxier.iptables;
    cfg.localhostNodePorts = c.localhostNodePorts ?? ipt.localhostNodePorts;
    cfg.conntrack = { ...cfg.conntrack, tcpBeLiberal: ipt.conntrackTCPBeLiberal };
    cfg.nodeIPOverride = [ipt.nodeIP];
  }
  return cfg;
}

/** What a mode's suite provides: a dataplane that programs the topology's node namespace. */
export interface ReplayTarget {
  mode: ReplayMode;
  /** Short, unique among suites that may run at once: part of the namespace names. */
  tag: string;
  dataplane(config: Config, topo: ConformanceTopology): { sync(state: ProxyState, full: boolean): Promise<void> };
  /** Flows this mode cannot replay that the common rules do not catch: the reason, or null. */
  notReplayable?(flow: Flow, t: Obj): string | null;
}

export function replayConformance(target: ReplayTarget): void {
  const { mode } = target;
  const data = (skip ? { defaults: {}, tests: [] } : parse(readFileSync(CONFORMANCE_FILE, 'utf8'))) as { defaults: Obj; tests: Obj[] };
  const tests = data.tests.filter((t) => t.backends.includes(mode));
  const notReplayed: string[] = [];
  const checked: { flow: Flow; ok: boolean; why: string }[] = [];

  describe(`conformance flows (${mode}) replayed through the kernel`, { skip: skip ?? false }, () => {
    const topo = new ConformanceTopology(`k6t-${process.pid}-${target.tag}`);
    before(async () => {
      const sources = new Set<string>();
      const endpoints = new Set<string>();
      const ports = new Set<number>();
      for (const t of tests) {
        if (t.family !== 'IPv4') continue;
        for (const st of t.steps) {
          for (const o of st.apply ?? []) {
            if (o.kind !== 'EndpointSlice' || o.addressType !== 'IPv4') continue;
            for (const e of o.endpoints) endpoints.add(e.addresses[0]);
            for (const p of o.ports ?? []) ports.add(p.port);
          }
          for (const f of st.flows ?? []) sources.add(f.sourceIP);
        }
      }
      await topo.build([...sources], [...endpoints], [...ports], tests);
    });
    after(async () => {
      await topo.destroy();
      if (notReplayed.length) console.log(`# conformance flows not replayable in namespaces (${notReplayed.length}):\n#   ${notReplayed.join('\n#   ')}`);
      const passed = checked.filter((c) => c.ok).length;
      console.log(`# ${mode} conformance flows replayed through the kernel: ${passed}/${checked.length} as expected`);
    });

    for (const t of tests) {
      test(t.id, async () => {
        if (t.family !== 'IPv4') {
          notReplayed.push(`${t.id}: IPv6 (the replay topology is IPv4 only)`);
          return;
        }
        const tracker = new ChangeTracker({ nodeName: t.config?.nodeName ?? data.defaults.environment.nodeName, machineAddresses: NODE_IPS });
        const dp = target.dataplane(configFor(t, mode, data.defaults), topo);
        const failures: string[] = [];
        let first = true;
        for (const st of t.steps) {
          for (const o of st.apply ?? []) assert.equal(tracker.upsert(structuredClone(o)), null, `${t.id}: ${o.kind} ${o.metadata?.name}`);
          for (const d of st.delete ?? []) tracker.delete(d.kind, d.namespace, d.name);
          await dp.sync(tracker.snapshot(), first);
          first = false;
          await topo.flushConntrack();
          const flows: Flow[] = [];
          for (const f of st.flows ?? []) {
            if (f.backends && !f.backends.includes(mode)) continue;
            const expected = f.expectedByBackend?.[mode] ?? f.expected;
            const flow: Flow = { test: t.id, name: f.name, proto: (f.protocol ?? 'TCP').toLowerCase(), src: f.sourceIP, dst: f.destIP, port: f.destPort, expected };
            const special = target.notReplayable?.(flow, t) ?? null;
            if (special) notReplayed.push(`${t.id} / ${f.name}: ${special}`);
            else if (flow.src.startsWith('127.') && mode === 'nftables') notReplayed.push(`${t.id} / ${f.name}: loopback source (nftables never serves it; martian outside lo)`);
            else if (flow.proto === 'sctp') notReplayed.push(`${t.id} / ${f.name}: SCTP (no SCTP client here)`);
            else if (flow.src === flow.dst && !NODE_IPS.includes(flow.src) && !flow.src.startsWith('127.'))
              notReplayed.push(`${t.id} / ${f.name}: source = destination ${f.sourceIP} (the node reaching its own LB IP via the LB: no namespace can send that)`);
            else if (topo.unsendable.has(flow.src)) notReplayed.push(`${t.id} / ${f.name}: source ${f.sourceIP} is also a Service destination (an LB IP), which the topology routes to the node`);
            else if (flow.proto === 'udp' && expected.verdict) notReplayed.push(`${t.id} / ${f.name}: UDP ${expected.verdict} (an unconnected UDP client cannot tell REJECT from DROP)`);
            else flows.push(flow);
          }
          const byRole = new Map<Role, Flow[]>();
          for (const f of flows) {
            const role: Role = NODE_IPS.includes(f.src) || f.src.startsWith('127.') ? 'node' : (topo.pods.get(f.src) ?? 'world');
            byRole.set(role, [...(byRole.get(role) ?? []), f]);
          }
          for (const [role, fs] of byRole) {
            const results = await topo.batch(
              role,
              fs.map((f) => ({
                proto: f.proto,
                src: f.src,
                dst: f.dst,
                port: f.port,
                count: f.expected.endpoints && f.expected.endpoints.length > 1 ? 4 : 1,
                timeoutMs: f.expected.verdict === 'DROP' || f.expected.verdict === 'UNHANDLED' ? 400 : 1500,
              })),
            );
            fs.forEach((f, i) => {
              const why = judge(f, results[i]);
              checked.push({ flow: f, ok: why === '', why });
              if (why) failures.push(`${f.name} (${f.src} -> ${f.dst}:${f.port}/${f.proto}): ${why}`);
            });
          }
        }
        assert.deepEqual(failures, [], failures.join('\n'));
      });
    }
  });
}

/** '' when the results match the expectation, else why not. */
function judge(f: Flow, rs: ClientResult[]): string {
  const ex = f.expected;
  const got = rs.map((r) => (r.ok ? r.reply!.split(' ') : [r.error!]));
  if (ex.endpoints) {
    for (const g of got) {
      if (g.length < 3) return `expected DNAT to ${ex.endpoints.join(',')}, got ${g[0]}`;
      const local = g[2];
      if (!ex.endpoints.includes(local)) return `DNAT to ${local}, expected one of ${ex.endpoints.join(',')}`;
      const masq = g[1].replace(/:\d+$/, '') !== f.src;
      if (masq !== ex.masq) return `masquerade ${masq}, expected ${ex.masq} (endpoint saw ${g[1]})`;
    }
    return '';
  }
  const r = rs[0];
  switch (ex.verdict) {
    case 'REJECT':
      return !r.ok && r.error === 'ECONNREFUSED' && r.ms < 400 ? '' : `expected REJECT, got ${r.ok ? 'a reply' : r.error} in ${r.ms} ms`;
    case 'DROP':
      return !r.ok && r.error === 'TIMEOUT' ? '' : `expected DROP, got ${r.ok ? 'a reply from ' + r.reply : r.error}`;
    case 'ACCEPT':
      // Let into the node's own stack (health-check NodePort): nothing listens there in this
      // topology, so the node answers with a reset; a DROP would time out instead.
      return r.ok || r.error === 'ECONNREFUSED' ? '' : `expected ACCEPT into the node, got ${r.error}`;
    case 'UNHANDLED':
      // Not DNATed: no endpoint answers (a local address refuses, anything else goes unanswered).
      return r.ok ? `expected no DNAT, got a reply: ${r.reply}` : '';
    default:
      return `unknown expectation ${JSON.stringify(ex)}`;
  }
}
