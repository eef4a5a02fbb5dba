// The demo launcher (what `npm start` runs), on the EndpointSlice form of the examples, as a
// user who is not root (uid 65534 when the suite runs as root). Its addresses are moved to a
// random 127.x block so that the test never collides with a demo someone is running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, statSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const folders = {
  'examples/ (Pods with readiness probes)': fileURLToPath(new URL('../../../examples', import.meta.url)),
  'the EndpointSlice fixture': fileURLToPath(new URL('../../../test/fixtures/userspace-demo', import.meta.url)),
};
const launcher = fileURLToPath(new URL('../../src/demo/launch.js', import.meta.url));

/** Whether every directory above `file` lets others through and `file` lets them read. */
function worldReadable(file: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body.trim()));
      })
      .on('error', reject);
  });
}

describe('demo launcher', () => {
  for (const [what, fixture] of Object.entries(folders))
    it(`on ${what}: starts the backends and kproxy (not as root); the VIPs answer and spread over the backends`, async () => {
      const a = 10 + Math.floor(Math.random() * 240);
      const b = Math.floor(Math.random() * 250);
      const nodePort = 30000 + Math.floor(Math.random() * 2700);
      const dir = mkdtempSync(join(tmpdir(), 'kproxy-demo-'));
      chmodSync(dir, 0o755);
      for (const f of readdirSync(fixture).filter((n) => !n.startsWith('.'))) {
        const text = readFileSync(join(fixture, f), 'utf8')
          .replaceAll('127.96.0.', `127.${a}.${b}.`)
          .replaceAll('127.0.1.', `127.${a}.${b + 1}.`)
          .replaceAll('30080', String(nodePort));
        writeFileSync(join(dir, f), text, { mode: 0o644 });
      }
      // as root, run the demo as "nobody" — if nobody can reach the checkout at all
      const asNobody = process.getuid?.() === 0 && worldReadable(launcher);
      if (process.getuid?.() === 0 && !asNobody) console.log(`# ${launcher} is not readable by other users: the demo runs as root here`);
      const asUser = asNobody ? { uid: 65534, gid: 65534 } : {};
      if (asNobody) chownSync(dir, 65534, 65534); // the user's own folder: kproxy keeps its allocations there
      const child = spawn(process.execPath, [launcher, dir, '--metrics-bind-address', '', '--healthz-bind-address', ''], { ...asUser, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      try {
        for (let i = 0; i < 200 && !out.includes('Try:'); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, new RegExp(`curl -s http://127\\.${a}\\.${b}\\.10:8080/`), err);
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) seen.add((await get(`http://127.${a}.${b}.10:8080/`)).split(' ')[2]);
        assert.deepEqual([...seen].sort(), ['web-1', 'web-2', 'web-3']);
        assert.match(await get(`http://127.0.0.1:${nodePort}/`), /^hello from web-/);
        const sticky = new Set<string>();
        for (let i = 0; i < 4; i++) sticky.add(await get(`http://127.${a}.${b}.12:8080/`));
        assert.equal(sticky.size, 1);
        // take web-2 away: no request fails, none reaches it
        assert.match(await get(`http://127.${a}.${b + 1}.2:8080/stop?for=30`), /stops listening/);
        // the stop happens after its reply is sent: wait until web-2 refuses connections
        for (let i = 0; i < 100 && (await accepts(`127.${a}.${b + 1}.2`, 8080)); i++) await new Promise((r) => setTimeout(r, 50));
        for (let i = 0; i < 6; i++) assert.doesNotMatch(await get(`http://127.${a}.${b}.10:8080/`), /web-2/);
        assert.doesNotMatch(err, /"level":5\d/, 'no errors logged');
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        rmSync(dir, { recursive: true, force: true });
      }
    });
});
