// `npm start`: the demo. Starts a demo backend for every Pod in the manifests folder (on its
// podIP and first containerPort), runs `kproxy run` in userspace mode on the folder, and
// prints what to try. Everything listens on 127.0.0.0/8 and on ports above 1024, so it works
// for a user who is not root, on a fresh machine.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifestDir } from '../sources/manifests/read.js';
import { DemoBackend } from './backend.js';

const NODE = 'demo-node';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Obj {
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form YAML the demo only reads
  spec?: Record<string, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form YAML the demo only reads
  status?: Record<string, any>;
  endpoints?: { addresses?: string[]; targetRef?: { kind?: string; name?: string } }[];
  ports?: { port?: number }[];
}

/**
 * A backend for every Pod (podIP, first containerPort) and, for folders that list
 * EndpointSlices instead of Pods, for every endpoint whose targetRef names a Pod.
 */
function backendsFor(objects: Obj[]): DemoBackend[] {
  const out = new Map<string, DemoBackend>();
  const add = (pod: string, ip: unknown, port: unknown) => {
    if (typeof ip === 'string' && typeof port === 'number' && !out.has(`${ip}:${port}`)) out.set(`${ip}:${port}`, new DemoBackend(pod, ip, port));
  };
  for (const o of objects) {
    if (o.kind === 'Pod') add(o.metadata?.name ?? '?', o.status?.podIP, o.spec?.containers?.[0]?.ports?.[0]?.containerPort);
  }
  for (const o of objects) {
    if (o.kind !== 'EndpointSlice') continue;
    for (const ep of o.endpoints ?? []) {
      if (ep.targetRef?.kind === 'Pod') add(ep.targetRef.name ?? '?', ep.addresses?.[0], o.ports?.[0]?.port);
    }
  }
  return [...out.values()];
}

interface Addresses {
  metrics: string;
  dns: string;
}

function tryThis(objects: Obj[], backends: DemoBackend[], addrs: Addresses): string {
  const lines: string[] = ['', 'kproxy is serving the Services in ' + process.argv[2] + '.'];
  if (addrs.metrics) lines.push(`Dashboard (Services, endpoints, trace, sync health, live): http://${addrs.metrics}/ui/`);
  lines.push('', 'Try:', '');
  const svcs = objects.filter((o) => o.kind === 'Service');
  for (const s of svcs) {
    const name = `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`;
    const spec = s.spec ?? {};
    const port = spec.ports?.[0]?.port;
    if (spec.type === 'ExternalName') {
      lines.push(`  ${name}: ExternalName → ${spec.externalName}; nothing to proxy (cluster DNS answers with a CNAME)`);
      continue;
    }
    if (spec.clusterIP === 'None') {
      lines.push(`  ${name}: headless; nothing to proxy (cluster DNS answers with the Pod IPs)`);
      continue;
    }
    if (!spec.clusterIP) {
      lines.push(`  ${name}: see \`kproxy services --manifests ${process.argv[2]}\` for its allocated IP`);
      continue;
    }
    const what =
      spec.sessionAffinity === 'ClientIP'
        ? ' (session affinity: the same backend every time)'
        : s.metadata?.annotations?.['kproxy.io/scheduler']
          ? ` (scheduler ${s.metadata.annotations['kproxy.io/scheduler']})`
          : ' (round robin)';
    lines.push(`  ${name}${what}:`);
    lines.push(`      for i in 1 2 3 4 5 6; do curl -s http://${spec.clusterIP}:${port}/; done`);
    if (spec.type === 'NodePort' && spec.ports?.[0]?.nodePort) lines.push(`      curl -s http://127.0.0.1:${spec.ports[0].nodePort}/        # the NodePort`);
  }
  if (backends.length > 0) {
    const b = backends[0];
    lines.push(
      '',
      'Then take a backend away and watch the traffic move:',
      `  curl -s http://${b.address}/stop?for=30     # ${b.pod} stops listening for 30 s: kproxy retries another backend at once, and its probe fails`,
      `  curl -s http://${b.address}/unready         # ${b.pod} fails its readiness probe: it leaves the endpoints in ~2 s (/ready brings it back)`,
    );
  }
  const named = svcs.find((s) => s.spec?.type !== 'ExternalName' && s.metadata?.name);
  if (addrs.dns && named) {
    const [host, port] = [addrs.dns.slice(0, addrs.dns.lastIndexOf(':')), addrs.dns.slice(addrs.dns.lastIndexOf(':') + 1)];
    lines.push('', `Cluster DNS on ${addrs.dns}:`, `  dig @${host} -p ${port} +short ${named.metadata!.name}.${named.metadata!.namespace ?? 'default'}.svc.cluster.local`);
  }
  if (addrs.metrics) {
    lines.push(
      '',
      `Metrics (retries, connections): curl -s http://${addrs.metrics}/metrics | grep kproxy_userspace`,
      `What kproxy runs:                curl -s http://${addrs.metrics}/rules`,
      `The Services, live:              node bin/kproxy.js services --live --metrics-bind-address ${addrs.metrics}`,
    );
  }
  lines.push('Stop with Ctrl-C.', '');
  return lines.join('\n');
}

/** Where `kproxy run` serves /metrics and the dashboard: the demo's default or a --metrics-bind-address passed through. */
/** Resolves when every TCP ClusterIP:port in the folder accepts a connection, or at the deadline. */
async function listening(objects: Obj[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const addrs = objects
    .filter((o) => o.kind === 'Service' && o.spec?.clusterIP && o.spec.clusterIP !== 'None')
    .flatMap((o) => (o.spec!.ports ?? []).filter((p: { protocol?: string }) => (p.protocol ?? 'TCP') === 'TCP').map((p: { port: number }) => [o.spec!.clusterIP as string, p.port] as const));
  const accepts = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  for (const [host, port] of addrs) {
    while (Date.now() < deadline && !(await accepts(host, port))) await new Promise((r) => setTimeout(r, 100));
  }
}

/** `preferred` when it is free on host, else a port the kernel picks: the demo never fails on a busy port. */
async function freeAddress(host: string, preferred: number): Promise<string> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen({ host, port, exclusive: true }, () => {
        const got = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(got));
      });
    });
  const port = (await tryPort(preferred)) ?? (await tryPort(0));
  return `${host}:${port ?? preferred}`;
}

/** The value of a flag the user passed through (`npm start -- --metrics-bind-address X`), if any. */
function passed(flag: string): string | undefined {
  const args = process.argv.slice(3);
  const i = args.lastIndexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? 'examples';
  if (!existsSync(dir)) throw new Error(`no such folder: ${dir}`);
  const { objects, errors } = readManifestDir(dir);
  for (const e of errors) process.stderr.write(`demo: ${e.file}:${e.line}: ${e.message}\n`);
  const objs = objects.map((o) => o.object as Obj);
  const backends = backendsFor(objs);
  for (const b of backends) {
    try {
      await b.start();
    } catch (e) {
      process.stderr.write(`demo: cannot start the backend of Pod ${b.pod} on ${b.address}: ${(e as Error).message}\n`);
    }
  }
  const addrs: Addresses = {
    metrics: passed('--metrics-bind-address') ?? (await freeAddress('127.0.0.1', 10249)),
    dns: passed('--dns-bind-address') ?? (await freeAddress('127.0.0.1', 10053)),
  };
  if (addrs.dns === 'off') addrs.dns = '';
  const healthz = passed('--healthz-bind-address') ?? (await freeAddress('127.0.0.1', 10256));
  const kproxy = spawn(
    process.execPath,
    [
      join(root, 'bin/kproxy.js'),
      'run',
      '--manifests',
      dir,
      '--proxy-mode',
      'userspace',
      '--hostname-override',
      NODE,
      '--nodeport-addresses',
      '127.0.0.0/8',
      '--metrics-bind-address',
      addrs.metrics,
      '--healthz-bind-address',
      healthz,
      '--dns-bind-address',
      addrs.dns || 'off',
      ...process.argv.slice(3),
    ],
    // Its own process group: a Ctrl-C in the terminal then reaches kproxy once, as the
    // launcher's SIGTERM, instead of twice (the terminal's SIGINT too), which would make
    // kproxy skip its orderly stop ("second signal; exiting now").
    { stdio: ['ignore', 'inherit', 'inherit'], detached: true },
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    kproxy.kill('SIGTERM');
    await Promise.all(backends.map((b) => b.stop()));
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.once('SIGHUP', () => void stop());
  // npm may end only the shell it started us from: when our parent goes away, so do we
  // (and kproxy with us), so that stopping `npm start` leaves nothing running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 500).unref();
  kproxy.once('exit', (code) => {
    void stop().then(() => process.exit(code ?? 0));
  });
  // the instructions, once kproxy listens on the Services' addresses (or after 15 s)
  await listening(objs, 15_000);
  if (!stopping) process.stdout.write(tryThis(objs, backends, addrs) + '\n');
}

main().catch((e) => {
  process.stderr.write(`demo: ${(e as Error).message}\n`);
  process.exit(1);
});
