// The kernel test harness: a topology of network namespaces joined by veth pairs, reusable
// by every kernel-backed dataplane's tests.
//
//   client1 192.168.50.2 ──── 192.168.50.1 eth-c1 ┐ (default route: sink0)
//   client2 192.168.60.2 ──── 192.168.60.1 eth-c2 ├ node (kproxy runs here; ip_forward=1)
//                                                 │  cbr0 10.244.1.1/24 (hairpin on)
//                            pod1 10.244.1.11 ────┤
//                            pod2 10.244.1.12 ────┤
//   node2 192.168.70.2 ───── 192.168.70.1 eth-n2 ┘
//     cbr0 10.244.2.1/24 ── pod3 10.244.2.13
//
// Pods run test/kernel/podserver (TCP 8080, UDP 5353) answering with their name. Every
// namespace name starts with a per-run prefix "k6t-<pid>-"; everything is deleted in
// destroy(), and namespaces left by a crashed run (whose pid is gone) are deleted at start.
// Nothing is done in the root namespace: veth ends are created directly in their namespaces.
// Every client and server checks (netns-guard) that it runs in one of these namespaces.
// Namespace lifecycle (stale runs, veth pairs, deletion) is shared with `kproxy bench`'s
// topology (src/bench/netns.ts); the layouts differ (this one has two nodes and IPv6).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addVeth, deleteNamespaces, removeStaleNamespaces } from '../../src/bench/netns.js';

export type Role = 'node' | 'pod1' | 'pod2' | 'node2' | 'pod3' | 'client1' | 'client2';
export const ROLES: readonly Role[] = ['node', 'pod1', 'pod2', 'node2', 'pod3', 'client1', 'client2'];

export const ADDR = {
  node: '192.168.50.1',
  nodeToClient2: '192.168.60.1',
  nodeToNode2: '192.168.70.1',
  node2: '192.168.70.2',
  client1: '192.168.50.2',
  client2: '192.168.60.2',
  pod1: '10.244.1.11',
  pod2: '10.244.1.12',
  pod3: '10.244.2.13',
  bridge1: '10.244.1.1',
  bridge2: '10.244.2.1',
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  // IPv6 (node, pod1, pod2 and client1 are dual-stack)
  node6: 'fd00:192:168:50::1',
  client16: 'fd00:192:168:50::2',
  pod16: 'fd00:10:244:1::11',
  pod26: 'fd00:10:244:1::12',
  bridge16: 'fd00:10:244:1::1',
  clusterCIDR6: 'fd00:10:244::/48',
  serviceCIDR6: 'fd00:10:96::/112',
} as const;

export const POD_TCP_PORT = 8080;
export const POD_UDP_PORT = 5353;

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = join(HERE, '..', '..', '..');
const NODE = process.execPath;

/** Why the kernel suite cannot run here, or null when it can. */
export function kernelSkipReason(tools: string[] = ['nft', 'ip', 'conntrack']): string | null {
  if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces, nft); skipped';
  const path = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  const missing = tools.filter((t) => !path.some((d) => existsSync(join(d, t))));
  if (missing.length > 0) return `kernel tests need ${missing.join(', ')} (scripts/setup.sh installs them); skipped`;
  return null;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await exec(cmd, args, { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const PREFIX_BASE = 'k6t-';

/** Deletes namespaces (and the processes in them) left by crashed runs of this harness. */
export async function removeStale(): Promise<void> {
  if (existsSync('/run/netns')) await removeStaleNamespaces(PREFIX_BASE, readdirSync('/run/netns'));
}

export class Topology {
  readonly prefix: string;
  private readonly children = new Set<ChildProcess>();
  private created: string[] = [];

  private constructor(tag: string) {
    this.prefix = `${PREFIX_BASE}${process.pid}-${tag}`;
  }

  /** Namespace name of a role. */
  ns(role: Role): string {
    return `${this.prefix}-${role}`;
  }

  /** Environment that lets the harness's programs pass their netns check. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, KPROXY_TEST_NETNS: ROLES.map((r) => this.ns(r)).join(',') };
  }

  static async create(tag = 'a'): Promise<Topology> {
    await removeStale();
    const t = new Topology(tag);
    try {
      await t.build();
    } catch (e) {
      await t.destroy();
      throw e;
    }
    return t;
  }

  private async ip(role: Role, ...args: string[]): Promise<void> {
    await must('ip', ['-n', this.ns(role), ...args]);
  }

  private veth(a: Role, aName: string, b: Role, bName: string): Promise<void> {
    return addVeth(this.ns(a), aName, this.ns(b), bName);
  }

  private async build(): Promise<void> {
    for (const r of ROLES) {
      await must('ip', ['netns', 'add', this.ns(r)]);
      this.created.push(this.ns(r));
      await this.ip(r, 'link', 'set', 'lo', 'up');
    }
    for (const r of ['node', 'node2'] as const) {
      await this.sysctl(r, 'net.ipv4.ip_forward=1');
      await this.ip(r, 'link', 'add', 'cbr0', 'type', 'bridge');
      await this.ip(r, 'addr', 'add', `${r === 'node' ? ADDR.bridge1 : ADDR.bridge2}/24`, 'dev', 'cbr0');
      await this.ip(r, 'link', 'set', 'cbr0', 'up');
    }
    const pods: [Role, Role, string, string][] = [
      ['node', 'pod1', ADDR.pod1, ADDR.bridge1],
      ['node', 'pod2', ADDR.pod2, ADDR.bridge1],
      ['node2', 'pod3', ADDR.pod3, ADDR.bridge2],
    ];
    for (const [host, pod, ip, gw] of pods) {
      const v = `veth-${pod}`;
      await this.veth(host, v, pod, 'eth0');
      await this.ip(host, 'link', 'set', v, 'master', 'cbr0');
      await this.ip(host, 'link', 'set', v, 'type', 'bridge_slave', 'hairpin', 'on');
      await this.ip(pod, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await this.ip(pod, 'route', 'add', 'default', 'via', gw);
    }
    const links: [Role, string, string, Role, string][] = [
      ['node', 'eth-c1', ADDR.node, 'client1', ADDR.client1],
      ['node', 'eth-c2', ADDR.nodeToClient2, 'client2', ADDR.client2],
      ['node', 'eth-n2', ADDR.nodeToNode2, 'node2', ADDR.node2],
    ];
    for (const [a, aName, aIP, b, bIP] of links) {
      await this.veth(a, aName, b, 'eth0');
      await this.ip(a, 'addr', 'add', `${aIP}/24`, 'dev', aName);
      await this.ip(b, 'addr', 'add', `${bIP}/24`, 'dev', 'eth0');
      await this.ip(b, 'route', 'add', 'default', 'via', aIP);
    }
    // Node-local clients need a route covering the VIPs (DATAPATH-NOTES pitfall 6): a default
    // route into a veth pair whose both ends stay in the node (no dummy driver here), where
    // unknown destinations die unanswered. Not via a client: the node would then answer a
    // client's packet for an unknown address with an ICMP redirect, which uses up the per-peer
    // ICMP rate limit and swallows the REJECT's port-unreachable that follows.
    await must('ip', ['link', 'add', 'sink0', 'netns', this.ns('node'), 'type', 'veth', 'peer', 'name', 'sink1', 'netns', this.ns('node')]);
    await this.ip('node', 'link', 'set', 'sink0', 'up');
    await this.ip('node', 'link', 'set', 'sink1', 'up');
    await this.ip('node', 'route', 'add', 'default', 'dev', 'sink0');
    await this.sysctl('node', 'net.ipv4.conf.all.send_redirects=0');
    // Tests send many REJECTed connections from one client: no ICMP rate limit in the node.
    await this.sysctl('node', 'net.ipv4.icmp_ratelimit=0');
    await this.sysctl('node', 'net.ipv6.icmp.ratelimit=0');
    await this.ip('node', 'route', 'add', '10.244.2.0/24', 'via', ADDR.node2);
    await this.ip('node2', 'route', 'add', '10.244.1.0/24', 'via', ADDR.nodeToNode2);
    // IPv6 on the node, its bridge, pod1, pod2 and client1 (nodad: usable at once).
    await this.sysctl('node', 'net.ipv6.conf.all.forwarding=1');
    await this.ip('node', 'addr', 'add', `${ADDR.bridge16}/64`, 'dev', 'cbr0', 'nodad');
    await this.ip('node', 'addr', 'add', `${ADDR.node6}/64`, 'dev', 'eth-c1', 'nodad');
    await this.ip('node', '-6', 'route', 'add', 'default', 'dev', 'sink0');
    for (const [pod, ip] of [
      ['pod1', ADDR.pod16],
      ['pod2', ADDR.pod26],
    ] as const) {
      await this.ip(pod, 'addr', 'add', `${ip}/64`, 'dev', 'eth0', 'nodad');
      await this.ip(pod, '-6', 'route', 'add', 'default', 'via', ADDR.bridge16);
    }
    await this.ip('client1', 'addr', 'add', `${ADDR.client16}/64`, 'dev', 'eth0', 'nodad');
    await this.ip('client1', '-6', 'route', 'add', 'default', 'via', ADDR.node6);
    await Promise.all([this.startServer('pod1'), this.startServer('pod2'), this.startServer('pod3')]);
  }

  private async sysctl(role: Role, kv: string): Promise<void> {
    await must('ip', ['netns', 'exec', this.ns(role), 'sysctl', '-qw', kv]);
  }

  private startServer(role: Role): Promise<void> {
    const child = this.spawn(role, [NODE, join(HERE, 'podserver.js'), role, '--tcp', String(POD_TCP_PORT), '--udp', String(POD_UDP_PORT)]);
    return new Promise((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`pod server ${role} exited (${code})`)));
    });
  }

  /** Starts a process inside a role's namespace; killed (by its PID) in destroy(). */
  spawn(role: Role, argv: string[], env: NodeJS.ProcessEnv = this.env): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(role), ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a command inside a role's namespace. */
  run(role: Role, argv: string[], input?: string): Promise<ExecResult> {
    return exec('ip', ['netns', 'exec', this.ns(role), ...argv], { input, env: this.env });
  }

  /** `nft` inside the node namespace. */
  async nft(args: string[], input?: string): Promise<string> {
    const r = await this.run('node', ['nft', ...args], input);
    if (r.code !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** COUNT new TCP connections (or UDP datagrams) from a role; the replies. */
  async client(role: Role, proto: 'tcp' | 'udp', ip: string, port: number, count = 1, timeoutMs = 2000): Promise<ClientResult[]> {
    const r = await this.run(role, [NODE, join(HERE, 'client.js'), proto, ip, String(port), String(count), String(timeoutMs)]);
    if (r.code !== 0) throw new Error(`client in ${role} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout) as ClientResult[]).map(parseReply);
  }

  /** A long-running client (udp-flow, tcp-hold) whose JSON lines arrive as they come. */
  stream(role: Role, mode: 'udp-flow' | 'tcp-hold', args: string[]): ClientStream {
    const child = this.spawn(role, [NODE, join(HERE, 'client.js'), mode, ...args]);
    return new ClientStream(child);
  }

  async destroy(): Promise<void> {
    for (const c of [...this.children]) {
      if (c.pid && c.exitCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // `ip netns exec` children: kill whatever still runs inside our namespaces (ours only).
    await deleteNamespaces(this.created);
    this.created = [];
  }
}

export interface ClientResult {
  ok: boolean;
  reply?: string;
  error?: string;
  ms: number;
  /** Parsed from the reply: which pod answered, the peer address it saw, and where it was reached. */
  pod?: string;
  peer?: string;
  local?: string;
}

function parseReply(r: ClientResult): ClientResult {
  if (!r.ok || !r.reply) return r;
  const [pod, peer, local] = r.reply.split(' ');
  return { ...r, pod, peer, local };
}

/** Lines of a streaming client, parsed. close() ends it (stdin EOF) and waits for exit. */
export class ClientStream {
  readonly lines: ClientResult[] = [];
  private buf = '';
  private waiters: (() => void)[] = [];

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(parseReply(JSON.parse(this.buf.slice(0, i))));
        this.buf = this.buf.slice(i + 1);
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  /** Resolves when pred holds for the lines so far (checked on each new line). */
  async until(pred: (lines: ClientResult[]) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.lines)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  async close(): Promise<ClientResult[]> {
    const exited = new Promise((r) => (this.child.exitCode !== null ? r(null) : this.child.once('exit', r)));
    this.child.stdin!.end();
    await exited;
    return this.lines;
  }
}

/** Polls fn until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many times each pod answered. */
export function histogram(results: ClientResult[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const r of results) {
    const k = r.ok ? r.pod! : `FAIL:${r.error}`;
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
}
