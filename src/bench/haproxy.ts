// HAProxy as the reference for the userspace mode: a TCP proxy in the node namespace in
// front of the same two Pods, round robin, HAProxy's defaults otherwise.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchTopology, BENCH_ADDR, POD_PORT } from './topology.js';

export const HAPROXY_PORT = 9080;

/** HAProxy's version, or null when it is not installed. */
export function haproxyVersion(): string | null {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return /version (\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0];
}

/** Starts HAProxy in the topology's node namespace; resolves once it accepts, with its stop(). */
export async function startHaproxy(topo: BenchTopology): Promise<{ target: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 4000',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1m',
      '  timeout server 1m',
      'frontend bench',
      `  bind ${BENCH_ADDR.node}:${HAPROXY_PORT}`,
      '  default_backend pods',
      'backend pods',
      '  balance roundrobin',
      `  server pod1 ${BENCH_ADDR.pod1}:${POD_PORT}`,
      `  server pod2 ${BENCH_ADDR.pod2}:${POD_PORT}`,
      '',
    ].join('\n'),
  );
  // HAProxy cannot check its namespace itself: the shell does, before it execs HAProxy.
  const ns = topo.ns('node');
  const child = topo.spawn('node', ['sh', '-c', '[ /proc/self/ns/net -ef "/run/netns/$0" ] || { echo "not in $0" >&2; exit 3; }; exec haproxy -db -f "$1"', ns, cfg]);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const stop = () => {
    if (child.pid && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when its port accepts: probe from inside the node namespace.
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${BENCH_ADDR.node}/${HAPROXY_PORT}`], { encoding: 'utf8' });
    if (r.status === 0) return { target: `${BENCH_ADDR.node}:${HAPROXY_PORT}`, stop };
    await new Promise((r2) => setTimeout(r2, 100));
  }
  stop();
  throw new Error(`HAProxy did not start: ${err.trim().slice(0, 300)}`);
}
