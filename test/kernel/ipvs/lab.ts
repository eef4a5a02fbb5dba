// One network-namespace "lab" inside the user-mode-Linux guest: a node (kproxy in ipvs mode
// runs there), two pods and a client, all joined to the node by veth pairs:
//
//   client 192.168.50.2 ── 192.168.50.1 vc ┐
//                                          node (kube-ipvs0, IPVS, iptables-legacy)
//   pod1 10.244.1.11/32 ─── 10.244.1.1 vp1 ┤   pods use /32 addresses routed via 10.244.1.1
//   pod2 10.244.1.12/32 ─── 10.244.1.1 vp2 ┘
//
// Pods run test/kernel/podserver on TCP 8080 (it answers with its name, then echoes lines), or
// with `echoPods` the benchmark's plain echo server (src/bench/pod-server.ts), which the bench
// client's kept-alive round trips need.
// IPVS is per network namespace, so each lab has its own table. Clients and servers refuse to
// run outside the lab's namespaces (the guest has no network card, so nothing could leave it
// anyway).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../uml/launcher.js';

export type Role = 'node' | 'pod1' | 'pod2' | 'client';
export const ADDR = { node: '192.168.50.1', client: '192.168.50.2', pod1: '10.244.1.11', pod2: '10.244.1.12', gw: '10.244.1.1' } as const;
// The netns check of in-netns.sh, inlined (execs are slow in the guest): `-ef` is the shell's
// own same-device-and-inode test.
const GUARD = '[ /proc/self/ns/net -ef "/run/netns/$0" ] || { echo "refusing to run outside $0" >&2; exit 3; }; exec "$@"';
const inNetns = (ns: string, argv: string[]) => ['netns', 'exec', ns, 'sh', '-c', GUARD, ns, ...argv];
export const OUT = '/run/out';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string, timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve) => {
    const c = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    c.stdin!.on('error', () => {}); // the program may exit without reading its input
    c.stdin!.end(input ?? '');
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Lab {
  private readonly procs = new Set<ChildProcess>();
  private kproxy: ChildProcess | null = null;
  private readonly agents = new Map<Role, Agent>();
  private conns = 0;
  readonly dir: string;
  readonly log: string;

  constructor(
    readonly tag: string,
    private readonly opts: { echoPods?: boolean } = {},
  ) {
    this.dir = `/run/manifests-${tag}`;
    this.log = join(OUT, `kproxy-${tag}.log`);
  }

  ns(role: Role): string {
    return `ipvs-${this.tag}-${role}`;
  }

  async build(): Promise<void> {
    for (const r of ['node', 'pod1', 'pod2', 'client'] as Role[]) await must('ip', ['netns', 'add', this.ns(r)]);
    const batch = (role: Role, lines: string[]) => must('ip', ['-n', this.ns(role), '-batch', '-'], lines.join('\n') + '\n');
    await batch('node', [
      'link set lo up',
      `link add vp1 type veth peer name eth0 netns ${this.ns('pod1')}`,
      `link add vp2 type veth peer name eth0 netns ${this.ns('pod2')}`,
      `link add vc type veth peer name eth0 netns ${this.ns('client')}`,
      `address add ${ADDR.gw}/32 dev vp1`,
      `address add ${ADDR.gw}/32 dev vp2`,
      `address add ${ADDR.node}/24 dev vc`,
      'link set vp1 up',
      'link set vp2 up',
      'link set vc up',
      `route add ${ADDR.pod1}/32 dev vp1`,
      `route add ${ADDR.pod2}/32 dev vp2`,
    ]);
    for (const p of ['pod1', 'pod2'] as const) {
      await batch(p, ['link set lo up', `address add ${ADDR[p]}/32 dev eth0`, 'link set eth0 up', `route add ${ADDR.gw}/32 dev eth0`, `route add default via ${ADDR.gw}`]);
      if (this.opts.echoPods) await this.echoPod(p);
      else this.background(p, [process.execPath, join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'podserver.js'), p, '--tcp', '8080', '--udp', '5353']);
    }
    await batch('client', ['link set lo up', `address add ${ADDR.client}/24 dev eth0`, 'link set eth0 up', `route add default via ${ADDR.node}`]);
    mkdirSync(this.dir, { recursive: true });
  }

  /** The benchmark's echo server in a pod, started and listening (it prints "ready"). */
  private echoPod(p: 'pod1' | 'pod2'): Promise<void> {
    const env = { ...process.env, KPROXY_TEST_NETNS: (['node', 'pod1', 'pod2', 'client'] as Role[]).map((r) => this.ns(r)).join(',') };
    const c = spawn('ip', inNetns(this.ns(p), [process.execPath, join(PROJECT_ROOT, 'dist', 'src', 'bench', 'pod-server.js'), '8080']), { stdio: ['ignore', 'pipe', 'ignore'], env });
    this.procs.add(c);
    c.on('exit', () => this.procs.delete(c));
    return new Promise((resolve, reject) => {
      c.stdout!.once('data', () => resolve());
      c.once('exit', (code) => reject(new Error(`the echo server in ${p} exited (${code})`)));
    });
  }

  /** Waits until both pods answer (they start in build(); kproxy may start meanwhile). Echo pods are serving once built. */
  async podsServing(): Promise<void> {
    if (this.opts.echoPods) return;
    for (const p of ['pod1', 'pod2'] as const) {
      await this.waitFor(`${p} serving`, async () => (await this.request('node', ADDR[p], 8080)) === p);
    }
  }

  async destroy(): Promise<void> {
    await this.stopKproxy();
    for (const p of this.procs) p.kill('SIGKILL');
    for (const r of ['node', 'pod1', 'pod2', 'client'] as Role[]) await run('ip', ['netns', 'del', this.ns(r)]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private background(role: Role, argv: string[]): ChildProcess {
    const env = { ...process.env, KPROXY_TEST_NETNS: (['node', 'pod1', 'pod2', 'client'] as Role[]).map((r) => this.ns(r)).join(',') };
    const c = spawn('ip', inNetns(this.ns(role), argv), { stdio: 'ignore', env });
    this.procs.add(c);
    c.on('exit', () => this.procs.delete(c));
    return c;
  }

  /** Writes (or replaces, atomically) one manifest file. */
  put(name: string, objects: unknown[]): void {
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, objects.map((o) => JSON.stringify(o)).join('\n---\n') + '\n');
    renameSync(tmp, join(this.dir, `${name}.yaml`));
  }

  async startKproxy(flags: string[] = []): Promise<void> {
    const fd = openSync(this.log, 'a');
    const argv = [
      process.execPath,
      join(PROJECT_ROOT, 'bin', 'kproxy.js'),
      'run',
      '--proxy-mode',
      'ipvs',
      '--manifests',
      this.dir,
      '--hostname-override',
      'node1',
      '--cluster-cidr',
      '10.244.0.0/16',
      '--healthz-bind-address',
      '',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--min-sync-period',
      '200ms',
      '--dns-bind-address',
      'off',
      '--v',
      '1', // a "synced" line per sync: waitForIpvs waits for those instead of polling the kernel
      ...flags,
    ];
    this.kproxy = spawn('ip', inNetns(this.ns('node'), argv), { stdio: ['ignore', fd, fd] });
    closeSync(fd);
  }

  async stopKproxy(): Promise<void> {
    const k = this.kproxy;
    this.kproxy = null;
    if (!k || k.exitCode !== null) return;
    const exited = new Promise((r) => k.once('exit', r));
    k.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (k.exitCode === null) k.kill('SIGKILL');
  }

  kproxyLog(): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  }

  /** The node's IPVS table, `ipvsadm -S -n`. */
  ipvs(): Promise<string> {
    return this.inNode(['ipvsadm', '-S', '-n']);
  }

  /**
   * Runs a short command in the node namespace. nsenter only joins the network namespace;
   * `ip netns exec` also makes a mount namespace and remounts /sys, which costs seconds in
   * the loaded guest. (Long-lived processes, kproxy among them, still get `ip netns exec`.)
   */
  inNode(argv: string[]): Promise<string> {
    return must('nsenter', [`--net=/run/netns/${this.ns('node')}`, ...argv]);
  }

  async waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await ok()) return;
      await sleep(500);
    }
    throw new Error(`timed out waiting for ${what}; kproxy log:\n${this.kproxyLog()}`);
  }

  /** How many syncs kproxy has logged so far (its "synced" lines, across restarts). */
  syncs(): number {
    try {
      return readFileSync(this.log, 'utf8').split('"msg":"synced"').length - 1;
    } catch {
      return 0;
    }
  }

  /**
   * Waits until the node's IPVS table holds every given `ipvsadm -S -n` line (and lacks every
   * `absent` one). The table is read once now and then after each sync kproxy logs, or every
   * few seconds for what kproxy changes between syncs (draining servers): reading a log file
   * costs far less in the guest than running ipvsadm twice a second.
   */
  async waitForIpvs(lines: string[], timeoutMs = 90_000, absent: string[] = []): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const seen = this.syncs();
      last = await this.ipvs();
      const have = new Set(last.split('\n'));
      if (lines.every((l) => have.has(l)) && absent.every((l) => !have.has(l))) return;
      const recheck = Date.now() + 4000;
      while (this.syncs() === seen && Date.now() < recheck && Date.now() < end) await sleep(100);
      if (Date.now() >= end)
        throw new Error(
          `timed out waiting for IPVS table lines ${JSON.stringify(lines)}${absent.length ? ` without ${JSON.stringify(absent)}` : ''}; kproxy log:\n${this.kproxyLog()}\nlast ipvsadm -S -n:\n${last}`,
        );
    }
  }

  /** The lab's long-lived client in `role` (test/kernel/ipvs/client-agent.ts), started on first use. */
  private agent(role: Role): Agent {
    let a = this.agents.get(role);
    if (!a) {
      const env = { ...process.env, KPROXY_TEST_NETNS: (['node', 'pod1', 'pod2', 'client'] as Role[]).map((r) => this.ns(r)).join(',') };
      const child = spawn('ip', ['netns', 'exec', this.ns(role), process.execPath, join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'ipvs', 'client-agent.js')], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env,
      });
      this.procs.add(child);
      a = new Agent(child);
      this.agents.set(role, a);
    }
    return a;
  }

  /** One short TCP request: the name of the pod that answered, or "ERR: …" with the client's complaint. */
  async request(from: Role, host: string, port: number, timeoutMs?: number): Promise<string> {
    const r = await this.agent(from).call({ op: 'request', host, port, timeoutMs });
    if (r.error !== undefined) return `ERR: ${r.error}`;
    return String(r.line).split(' ')[0]; // "<pod name> <peer> <local>" (test/kernel/podserver.ts)
  }

  /** One UDP datagram from a new socket: the reply "<pod> <peer> <local>", or "ERR: …". */
  async datagram(from: Role, host: string, port: number, timeoutMs?: number): Promise<string> {
    const r = await this.agent(from).call({ op: 'udp', host, port, timeoutMs });
    return r.error !== undefined ? `ERR: ${r.error}` : String(r.line);
  }

  async requests(from: Role, host: string, port: number, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.request(from, host, port));
    return out;
  }

  /** A connection kept open: which server took it, and an echo through it. */
  async open(from: Role, host: string, port: number): Promise<OpenConnection> {
    const conn = `c${++this.conns}`;
    const a = this.agent(from);
    const r = await a.call({ op: 'open', host, port, conn });
    if (r.error !== undefined) throw new Error(`cannot open a connection to ${host}:${port}: ${r.error}`);
    return new OpenConnection(a, conn, String(r.line).split(' ')[0]);
  }
}

type Reply = { id: number; line?: string; error?: string };

class Agent {
  private next = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  constructor(private readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const r = JSON.parse(buf.slice(0, i)) as Reply;
        buf = buf.slice(i + 1);
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      }
    });
    child.on('exit', () => this.pending.forEach((f, id) => f({ id, error: 'the client agent exited' })));
  }

  call(cmd: Record<string, unknown>): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin!.write(JSON.stringify({ id, ...cmd }) + '\n');
    });
  }
}

export class OpenConnection {
  constructor(
    private readonly agent: Agent,
    private readonly conn: string,
    readonly server: string,
  ) {}

  /** Sends a line through the open connection; the pod echoes it as "<pod name> <line>". */
  async echo(text: string): Promise<string> {
    const r = await this.agent.call({ op: 'echo', conn: this.conn, text });
    if (r.error !== undefined) return `ERR: ${r.error}`;
    return String(r.line).replace(/^\S+ /, '');
  }

  close(): void {
    void this.agent.call({ op: 'close', conn: this.conn });
  }

  /** Closes with a RST: IPVS counts the connection as closed at once (no TIME_WAIT). */
  reset(): Promise<unknown> {
    return this.agent.call({ op: 'reset', conn: this.conn });
  }
}
