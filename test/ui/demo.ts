// The demo (`npm start`'s launcher) on a copy of examples/ moved to a random 127.x block, with
// the metrics server (and so the dashboard) on a free port of 127.0.0.1. Only loopback
// sockets are opened; no rule, route or address is touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../helpers/paths.js';

export interface RunningDemo {
  dir: string;
  url: string;
  /** The demo's ClusterIP block "127.a.b." and its Pods' block "127.a.b+1.". */
  vips: string;
  pods: string;
  nodePort: number;
  /** The CLI flags the demo's `kproxy run` gets that change what is compiled. */
  flags: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startDemo(extraManifests: Record<string, string> = {}): Promise<RunningDemo> {
  const a = 10 + Math.floor(Math.random() * 240);
  const b = Math.floor(Math.random() * 250);
  const nodePort = 30000 + Math.floor(Math.random() * 2700);
  const vips = `127.${a}.${b}.`;
  const pods = `127.${a}.${b + 1}.`;
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-ui-'));
  const move = (text: string) => text.replaceAll('127.96.0.', vips).replaceAll('127.0.1.', pods).replaceAll('30080', String(nodePort));
  for (const f of readdirSync(fromRoot('examples')).filter((n) => !n.startsWith('.'))) writeFileSync(join(dir, f), move(readFileSync(fromRoot('examples', f), 'utf8')));
  for (const [f, text] of Object.entries(extraManifests)) writeFileSync(join(dir, f), move(text));
  const metrics = await freePort();
  const healthz = await freePort();
  const child: ChildProcess = spawn(process.execPath, [fromRoot('dist/src/demo/launch.js'), dir, '--metrics-bind-address', `127.0.0.1:${metrics}`, '--healthz-bind-address', `127.0.0.1:${healthz}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300 && !out.includes('Try:'); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!out.includes('Try:')) {
    await stop();
    throw new Error(`the demo did not start:\n${out}`);
  }
  return { dir, url: `http://127.0.0.1:${metrics}/`, vips, pods, nodePort, flags: ['--hostname-override', 'demo-node', '--nodeport-addresses', '127.0.0.0/8'], stop };
}
