// The ebpf mode against the real kernel: `kproxy run --proxy-mode ebpf` in the node namespace
// attaches its programs to a cgroup made for this test, and the Pods' clients join that
// cgroup before they enter their namespace (a socket belongs to the cgroup of the process
// that creates it). ClusterIP traffic is then translated at connect()/sendmsg(): no nft rule,
// no conntrack entry; NodePort goes through the nftables dataplane.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { cgroup2Mount } from '../../src/bpf/mounts.js';
import { ATTACH_TYPE, type AttachType } from '../../src/bpf/constants.js';
import { openCgroup, queryCgroup } from '../../src/bpf/prog.js';
import { probeBpf, probeSockAddr } from '../../src/bpf/probe.js';
import { ADDR, exec, kernelSkipReason, POD_TCP_PORT, POD_UDP_PORT, PROJECT_ROOT, Topology, waitFor, type Role } from './harness.js';
import { closeSync } from 'node:fs';

const NS = 'demo';
const VIP = { web: '10.96.0.10', sticky: '10.96.0.12', empty: '10.96.0.16', np: '10.96.0.20', dns: '10.96.0.53' };
const VIP6 = 'fd00:10:96::10';
const NODEPORT = 30080;

function skipReason(): string | null {
  const k = kernelSkipReason(['nft', 'ip', 'conntrack', 'nsenter']);
  if (k) return k;
  if (!cgroup2Mount()) return 'ebpf kernel tests need a cgroup2 mount; skipped';
  const why = probeBpf() ?? probeSockAddr('CGROUP_INET4_CONNECT');
  return why ? `ebpf kernel tests need bpf(2) with cgroup sock_addr programs (${why}); skipped` : null;
}

const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name }, spec });
const http = [{ name: 'http', port: 80, targetPort: POD_TCP_PORT, protocol: 'TCP' }];
function slice(name: string, svcName: string, ips: string[], proto: 'TCP' | 'UDP' = 'TCP', addressType = 'IPv4') {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name, labels: { 'kubernetes.io/service-name': svcName } },
    addressType,
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node1', conditions: { ready: true } })),
    ports: [{ name: proto === 'TCP' ? 'http' : 'dns', port: proto === 'TCP' ? POD_TCP_PORT : POD_UDP_PORT, protocol: proto }],
  };
}

function objects(webPods: string[]): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node1' },
      spec: { podCIDRs: ['10.244.1.0/24'] },
      status: {
        addresses: [
          { type: 'InternalIP', address: ADDR.node },
          { type: 'InternalIP', address: ADDR.node6 },
        ],
      },
    },
    svc('web', { clusterIP: VIP.web, clusterIPs: [VIP.web, VIP6], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', ports: http }),
    slice('web-1', 'web', webPods),
    slice('web-v6', 'web', [ADDR.pod16, ADDR.pod26], 'TCP', 'IPv6'),
    svc('dns', { clusterIP: VIP.dns, ports: [{ name: 'dns', port: 53, targetPort: POD_UDP_PORT, protocol: 'UDP' }] }),
    slice('dns-1', 'dns', [ADDR.pod1, ADDR.pod2], 'UDP'),
    svc('sticky', { clusterIP: VIP.sticky, sessionAffinity: 'ClientIP', ports: http }),
    slice('sticky-1', 'sticky', [ADDR.pod1, ADDR.pod2]),
    svc('empty', { clusterIP: VIP.empty, ports: http }),
    svc('np', { type: 'NodePort', clusterIP: VIP.np, ports: [{ ...http[0], nodePort: NODEPORT }] }),
    slice('np-1', 'np', [ADDR.pod1, ADDR.pod2]),
  ];
}

interface R {
  ok: boolean;
  pod?: string;
  remote?: string;
  error?: string;
  ms: number;
}

const count = (rs: R[]) => {
  const h: Record<string, number> = {};
  for (const r of rs) h[r.ok ? r.pod! : `FAIL:${r.error}`] = (h[r.ok ? r.pod! : `FAIL:${r.error}`] ?? 0) + 1;
  return h;
};

const skip = skipReason();

describe('ebpf mode (kernel)', { skip: skip ?? false }, () => {
  let topo: Topology;
  let dir = '';
  let cgroup = '';
  let kproxy: ChildProcess | null = null;
  let log = '';
  const CLIENT = join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'ebpf-client.js');
  const KPROXY = join(PROJECT_ROOT, 'bin', 'kproxy.js');

  /** A command in a role's namespace, started from inside the test cgroup (or not). */
  function argvIn(role: Role, argv: string[], inCgroup: boolean): string[] {
    const enter = ['ip', 'netns', 'exec', topo.ns(role), ...argv];
    if (!inCgroup) return enter;
    // Join the cgroup first: `ip netns exec` remounts /sys, where the cgroup tree lives.
    return ['sh', '-c', `echo $$ > "$0/cgroup.procs" && exec "$@"`, cgroup, ...enter];
  }

  async function client(role: Role, args: string[], inCgroup = true): Promise<R[]> {
    const [cmd, ...rest] = argvIn(role, [process.execPath, CLIENT, ...args], inCgroup);
    const r = await exec(cmd, rest, { env: topo.env });
    if (r.code !== 0) throw new Error(`client failed (exit ${r.code}): ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as R[];
  }

  async function startKproxy(): Promise<void> {
    log = '';
    // nsenter keeps the host's mount namespace, so the bpffs kproxy pins to outlives it.
    const k = spawn(
      'nsenter',
      [
        `--net=/run/netns/${topo.ns('node')}`,
        process.execPath,
        KPROXY,
        'run',
        '--manifests',
        dir,
        '--v',
        '1',
        '--proxy-mode',
        'ebpf',
        '--bpf-cgroup-root',
        cgroup,
        '--hostname-override',
        'node1',
        '--cluster-cidr',
        `${ADDR.clusterCIDR},${ADDR.clusterCIDR6}`,
        '--service-cluster-ip-range',
        `${ADDR.serviceCIDR},${ADDR.serviceCIDR6}`,
        '--metrics-bind-address',
        '127.0.0.1:10249',
        '--healthz-bind-address',
        '127.0.0.1:10256',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    kproxy = k;
    k.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    k.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitFor(async () => log.includes('"msg":"synced"') || k.exitCode !== null, 20_000, "kproxy's first sync");
    if (k.exitCode !== null) throw new Error(`kproxy exited ${k.exitCode}: ${log.slice(-2000)}`);
  }

  async function stopKproxy(): Promise<void> {
    const k = kproxy;
    kproxy = null;
    if (!k || k.exitCode !== null) return;
    const exited = new Promise((r) => k.once('exit', r));
    k.kill('SIGTERM'); // nsenter execs node: this PID is kproxy's own
    await exited;
  }

  // Inside the node namespace (its nft half deletes kproxy's tables there), in the host's
  // mount namespace (where the pins are).
  const cleanup = () => exec('nsenter', [`--net=/run/netns/${topo.ns('node')}`, process.execPath, KPROXY, 'cleanup']);

  const write = (webPods: string[]) =>
    writeFileSync(
      join(dir, 'services.yaml'),
      objects(webPods)
        .map((o) => stringify(o))
        .join('---\n'),
    );

  before(async () => {
    topo = await Topology.create('bpf');
    cgroup = join(cgroup2Mount()!, `${topo.prefix}-pods`);
    mkdirSync(cgroup);
    dir = mkdtempSync(join(tmpdir(), 'kproxy-ebpf-'));
    write([ADDR.pod1, ADDR.pod2]);
    await startKproxy();
  });

  after(async () => {
    await stopKproxy().catch(() => {});
    if (cgroup && topo) await cleanup().catch(() => {});
    await topo?.destroy();
    if (cgroup && existsSync(cgroup)) rmdirSync(cgroup);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('ClusterIP TCP from a Pod reaches every backend; no nft rule, no conntrack entry; getpeername() is the Service address', async () => {
    const rs = await client('pod1', ['tcp', VIP.web, '80', '40', '2000']);
    assert.ok(
      rs.every((r) => r.ok),
      JSON.stringify(count(rs)),
    );
    assert.deepEqual(Object.keys(count(rs)).sort(), ['pod1', 'pod2']);
    assert.ok(
      rs.every((r) => r.remote === `${VIP.web}:80`),
      JSON.stringify(rs.map((r) => r.remote)),
    );
    const ruleset = await topo.nft(['list', 'ruleset']);
    assert.ok(ruleset.includes(VIP.np), 'the NodePort Service is in nftables');
    assert.ok(!ruleset.includes(VIP.web), 'no nft rule names the ClusterIP-only Service');
    for (const role of ['node', 'pod1'] as const) {
      const ct = await topo.run(role, ['conntrack', '-L']);
      assert.ok(!ct.stdout.includes(VIP.web), `${role}: a conntrack entry names ${VIP.web}: ${ct.stdout}`);
      // The control: the node does track these connections (its nat table exists for the
      // NodePort), only never towards the Service address.
      if (role === 'node') assert.ok(ct.stdout.includes(`src=${ADDR.pod1} dst=${ADDR.pod2} `), `node: no conntrack entry pod1 → pod2: ${ct.stdout}`);
    }
    // The same Pod outside the cgroup: the Service address exists nowhere.
    const outside = await client('pod1', ['tcp', VIP.web, '80', '1', '500'], false);
    assert.equal(outside[0].ok, false);
  });

  test('the /rules page shows the kernel maps decoded, then the nftables part; kproxy trace --live reads it', async () => {
    const page = await topo.run('node', ['curl', '-s', 'http://127.0.0.1:10249/rules']);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /^service 10\.96\.0\.10:80\/TCP demo\/web:http svc_id \d+ set \d+ count 2\n {2}slot 0 10\.244\.1\.11:8080 weight 1\n {2}slot 1 10\.244\.1\.12:8080 weight 1$/m);
    assert.match(page.stdout, /# NodePort, externalIPs and LoadBalancer IPs: the nftables ruleset ebpf mode applies\n[\s\S]*30080/);
    const tr = await topo.run('node', [
      process.execPath,
      KPROXY,
      'trace',
      '--live',
      '--proxy-mode',
      'ebpf',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--src',
      ADDR.pod1,
      '--dst',
      VIP.web,
      '--dport',
      '80',
      '--json',
    ]);
    assert.equal(tr.code, 0, tr.stderr);
    const j = JSON.parse(tr.stdout) as { verdict: string; endpoints: { ip: string; probability: number }[] };
    assert.equal(j.verdict, 'DNAT');
    assert.deepEqual(
      j.endpoints.map((e) => [e.ip, e.probability]),
      [
        [ADDR.pod1, 0.5],
        [ADDR.pod2, 0.5],
      ],
    );
  });

  test('IPv6 ClusterIP (connect6, getpeername6)', async () => {
    const rs = await client('pod1', ['tcp', VIP6, '80', '20', '2000']);
    assert.ok(
      rs.every((r) => r.ok),
      JSON.stringify(count(rs)),
    );
    assert.deepEqual(Object.keys(count(rs)).sort(), ['pod1', 'pod2']);
    assert.ok(
      rs.every((r) => r.remote === `[${VIP6}]:80`),
      JSON.stringify(rs.map((r) => r.remote)),
    );
  });

  test('UDP through the Service address, unconnected (sendmsg/recvmsg) and connected (connect/getpeername)', async () => {
    for (const mode of ['unconnected', 'connected']) {
      const rs = await client('pod2', ['udp', VIP.dns, '53', '30', '1000', mode]);
      assert.ok(
        rs.every((r) => r.ok),
        `${mode}: ${JSON.stringify(count(rs))}`,
      );
      assert.deepEqual(Object.keys(count(rs)).sort(), ['pod1', 'pod2'], mode);
      assert.ok(
        rs.every((r) => r.remote === `${VIP.dns}:53`),
        `${mode}: replies appear to come from the Service: ${JSON.stringify(rs.map((r) => r.remote))}`,
      );
    }
  });

  test('ClientIP affinity holds for 50 connections', async () => {
    const rs = await client('pod1', ['tcp', VIP.sticky, '80', '50', '2000']);
    assert.ok(
      rs.every((r) => r.ok),
      JSON.stringify(count(rs)),
    );
    assert.equal(Object.keys(count(rs)).length, 1, JSON.stringify(count(rs)));
  });

  test('no endpoints: ECONNREFUSED at once; a ClusterIP on a port the Service does not have too', async () => {
    const rs = await client('pod1', ['tcp', VIP.empty, '80', '3', '2000']);
    assert.deepEqual(
      rs.map((r) => r.error),
      ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'],
    );
    assert.ok(
      rs.every((r) => r.ms < 200),
      JSON.stringify(rs),
    );
    const other = await client('pod1', ['tcp', VIP.web, '81', '1', '2000']);
    assert.equal(other[0].error, 'ECONNREFUSED');
    assert.ok(other[0].ms < 200, JSON.stringify(other));
  });

  test('NodePort from the external client works through the nftables dataplane', async () => {
    const r = await topo.client('client1', 'tcp', ADDR.node, NODEPORT, 10);
    assert.ok(
      r.every((x) => x.ok),
      JSON.stringify(r),
    );
  });

  test('an endpoint removed: new connections avoid it once kproxy synced', async () => {
    const synced = (log.match(/"msg":"synced"/g) ?? []).length;
    write([ADDR.pod2]);
    await waitFor(async () => (log.match(/"msg":"synced"/g) ?? []).length > synced, 10_000, 'the sync after the change');
    const rs = await client('pod1', ['tcp', VIP.web, '80', '30', '2000']);
    assert.deepEqual(count(rs), { pod2: 30 });
    write([ADDR.pod1, ADDR.pod2]);
  });

  test('kproxy restarted: connections during the restart still succeed, and the maps are picked up again', async () => {
    const [cmd, ...rest] = argvIn('pod1', [process.execPath, CLIENT, 'tcp-loop', VIP.web, '80', '20'], true);
    const loop = spawn(cmd, rest, { env: topo.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    loop.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await new Promise((r) => setTimeout(r, 300));
      await stopKproxy();
      await new Promise((r) => setTimeout(r, 700));
      await startKproxy();
      assert.match(log, /"adoptedServices":[1-9]/, 'the restarted kproxy adopted the pinned maps');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      const exited = new Promise((r) => loop.once('exit', r));
      loop.stdin!.end();
      await exited;
    }
    const rs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as R);
    assert.ok(rs.length >= 20, `only ${rs.length} connections`);
    assert.ok(
      rs.every((r) => r.ok),
      JSON.stringify(count(rs)),
    );
  });

  test('kproxy cleanup leaves nothing attached or pinned', async () => {
    await stopKproxy();
    const r = await cleanup();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /detached kproxy_conn4/);
    const fd = openCgroup(cgroup);
    try {
      for (const t of Object.keys(ATTACH_TYPE) as AttachType[]) assert.deepEqual(queryCgroup(fd, t), [], t);
    } finally {
      closeSync(fd);
    }
    const pins = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('ebpf: unpinned '))
      .map((l) => l.slice('ebpf: unpinned '.length));
    assert.ok(pins.length >= 18, r.stdout);
    assert.ok(pins.every((p) => !existsSync(p)));
    const pinDir = pins[0].slice(0, pins[0].lastIndexOf('/'));
    assert.ok(!existsSync(pinDir) || readdirSync(pinDir).length === 0);
    const rs = await client('pod1', ['tcp', VIP.web, '80', '1', '500']);
    assert.equal(rs[0].ok, false, 'the Service address is not translated any more');
  });
});
