// The bench's network: four namespaces joined by veth pairs, the same addresses as the
// kernel test harness (test/kernel/harness.ts) uses for its node, client1, pod1 and pod2.
//
//   client 192.168.50.2 ──── 192.168.50.1 eth-c1 ┐ node (the proxy runs here; ip_forward=1;
//                                                 │       default route into sink0)
//                            cbr0 10.244.1.1/24 ──┤
//                            pod1 10.244.1.11 ────┤
//                            pod2 10.244.1.12 ────┘
//
// Names are "kpb-<pid>-<tag>-<role>": unique per run, all deleted in destroy(), and those of
// a crashed run (whose pid is gone) deleted at the next start. Nothing is done in the root
// namespace: veth ends are created directly in their namespaces, and every program the
// bench starts in them checks (netns-guard) that it is inside one of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeLiveCgroups, removeStaleCgroups } from './cgroup.js';
import { addVeth, deleteNamespaces, killPid as kill, mustRun as must, pidsIn, removeStaleNamespaces } from './netns.js';
import { NETNS_ENV } from './netns-guard.js';

export type Role = 'node' | 'client' | 'pod1' | 'pod2';
export const ROLES: readonly Role[] = ['node', 'client', 'pod1', 'pod2'];

export const BENCH_ADDR = {
  node: '192.168.50.1',
  client: '192.168.50.2',
  bridge: '10.244.1.1',
  pod1: '10.244.1.11',
  pod2: '10.244.1.12',
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
} as const;
export const POD_PORT = 8080;

const HERE = dirname(fileURLToPath(import.meta.url));
const PREFIX = 'kpb-';

export { pidsIn } from './netns.js';

/** Deletes the namespaces (and their processes) of bench runs that crashed, and their cgroups. */
async function removeStale(): Promise<void> {
  if (existsSync('/run/netns')) await removeStaleNamespaces(PREFIX, readdirSync('/run/netns'));
  // Their ebpf client cgroups, now that the processes in them are gone.
  await removeStaleCgroups();
}

/** Topologies not yet destroyed: what an interrupted bench removes before it exits. */
const live = new Set<BenchTopology>();

/** Destroys every topology of this process, and its cgroups (on SIGINT/SIGTERM). */
export async function destroyAll(): Promise<void> {
  for (const t of [...live]) await t.destroy();
  await removeLiveCgroups();
}

export class BenchTopology {
  readonly prefix: string;
  private readonly children = new Set<ChildProcess>();
  private created: string[] = [];

  private constructor(tag: string) {
    this.prefix = `${PREFIX}${process.pid}-${tag}`;
  }

  ns(role: Role): string {
    return `${this.prefix}-${role}`;
  }

  /** The environment that lets the bench's programs pass their netns check. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, [NETNS_ENV]: ROLES.map((r) => this.ns(r)).join(',') };
  }

  static async create(tag: string): Promise<BenchTopology> {
    await removeStale();
    const t = new BenchTopology(tag);
    live.add(t);
    try {
      await t.build();
    } catch (e) {
      await t.destroy();
      throw e;
    }
    return t;
  }

  private ip(role: Role, ...args: string[]): Promise<string> {
    return must('ip', ['-n', this.ns(role), ...args]);
  }

  private sysctl(role: Role, kv: string): Promise<string> {
    return must('ip', ['netns', 'exec', this.ns(role), 'sysctl', '-qw', kv]);
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
    await this.sysctl('node', 'net.ipv4.ip_forward=1');
    await this.ip('node', 'link', 'add', 'cbr0', 'type', 'bridge');
    await this.ip('node', 'addr', 'add', `${BENCH_ADDR.bridge}/24`, 'dev', 'cbr0');
    await this.ip('node', 'link', 'set', 'cbr0', 'up');
    for (const [pod, addr] of [
      ['pod1', BENCH_ADDR.pod1],
      ['pod2', BENCH_ADDR.pod2],
    ] as const) {
      await this.veth('node', `veth-${pod}`, pod, 'eth0');
      await this.ip('node', 'link', 'set', `veth-${pod}`, 'master', 'cbr0');
      await this.ip('node', 'link', 'set', `veth-${pod}`, 'type', 'bridge_slave', 'hairpin', 'on');
      await this.ip(pod, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      await this.ip(pod, 'route', 'add', 'default', 'via', BENCH_ADDR.bridge);
    }
    await this.veth('node', 'eth-c1', 'client', 'eth0');
    await this.ip('node', 'addr', 'add', `${BENCH_ADDR.node}/24`, 'dev', 'eth-c1');
    await this.ip('client', 'addr', 'add', `${BENCH_ADDR.client}/24`, 'dev', 'eth0');
    await this.ip('client', 'route', 'add', 'default', 'via', BENCH_ADDR.node);
    // The node needs a route covering the Service addresses (as a real node has its default
    // route): a veth pair whose two ends stay in the node, where unknown addresses end.
    await must('ip', ['link', 'add', 'sink0', 'netns', this.ns('node'), 'type', 'veth', 'peer', 'name', 'sink1', 'netns', this.ns('node')]);
    await this.ip('node', 'link', 'set', 'sink0', 'up');
    await this.ip('node', 'link', 'set', 'sink1', 'up');
    await this.ip('node', 'route', 'add', 'default', 'dev', 'sink0');
    await this.sysctl('node', 'net.ipv4.conf.all.send_redirects=0');
    await Promise.all([this.startPod('pod1'), this.startPod('pod2')]);
  }

  /** The Pod's server: an echo server on POD_PORT (pod-server.ts). */
  private startPod(role: 'pod1' | 'pod2'): Promise<void> {
    const child = this.spawn(role, [process.execPath, join(HERE, 'pod-server.js'), String(POD_PORT)]);
    return new Promise((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the Pod server in ${role} exited (${code})`)));
    });
  }

  /** PID of the server of a Pod (`ip netns exec` execs it, so the PID is the server's). */
  podPid(role: 'pod1' | 'pod2'): number | undefined {
    return [...this.children].find((c) => c.spawnargs.includes(this.ns(role)) && c.spawnargs.some((a) => a.endsWith('pod-server.js')))?.pid;
  }

  /** Starts a process inside a role's namespace; it is killed (by its PID) in destroy(). */
  spawn(role: Role, argv: string[], opts: { env?: NodeJS.ProcessEnv; cgroup?: string; keepMounts?: boolean } = {}): ChildProcess {
    // `ip netns exec` also mounts a /sys of the namespace, which hides the cgroup2 tree; a
    // program that needs that tree (the ebpf mode) enters only the network namespace.
    const inNs = opts.keepMounts ? ['nsenter', `--net=/run/netns/${this.ns(role)}`, ...argv] : ['ip', 'netns', 'exec', this.ns(role), ...argv];
    // A cgroup (the ebpf mode's) is joined before the exec, so the program runs inside it.
    const full = opts.cgroup ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroup, ...inNs] : inNs;
    const child = spawn(full[0], full.slice(1), { env: opts.env ?? this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a program in a role's namespace to its end: its stdout, or an error with its stderr. */
  async run(role: Role, argv: string[], opts: { cgroup?: string; timeoutMs?: number } = {}): Promise<string> {
    const child = this.spawn(role, argv, opts);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin!.end();
    const timer = setTimeout(() => child.pid && kill(child.pid), opts.timeoutMs ?? 300_000);
    const code = await new Promise<number | null>((r) => child.once('close', r));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${argv.slice(1).join(' ')} in ${role} failed (exit ${code}): ${err.trim().slice(0, 500)}`);
    return out;
  }

  /** TrafficSite (traffic.ts): the bench client runs in the client namespace. */
  runClient(argv: string[], opts: { cgroup?: string; timeoutMs: number }): Promise<string> {
    return this.run('client', argv, opts);
  }

  /** TrafficSite (traffic.ts): the Pod servers and everything in the node namespace. */
  async serverPids(): Promise<number[]> {
    return [this.podPid('pod1'), this.podPid('pod2'), ...(await pidsIn(this.ns('node')))].filter((p): p is number => p !== undefined);
  }

  async destroy(): Promise<void> {
    live.delete(this);
    for (const c of [...this.children]) if (c.pid && c.exitCode === null) kill(c.pid);
    // Whatever else still runs inside our namespaces (ours only: found by namespace).
    await deleteNamespaces(this.created);
    this.created = [];
  }
}
