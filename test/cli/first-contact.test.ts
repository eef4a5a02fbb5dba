// What a new user meets first, with the real binary: --version, help that lists a command's
// own flags, one-line errors for mistakes (exit 2, no stack trace), and a running proxy that
// says what it does (start, first sync and stop lines; /proxyMode, /configz, /rules in
// userspace mode, and `kproxy services --live`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromRoot } from '../helpers/paths.js';
import { assertOneLine, kproxy as kproxyAsync, kproxySync } from './run-kproxy.js';

const BIN = fromRoot('bin/kproxy.js');
const run = kproxySync;
const oneLine = assertOneLine;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('first contact', () => {
  it('--version prints the package version', () => {
    const r = run(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('a flag error prints the error and a one-line hint, not the whole help', () => {
    const r = run(['services', '--manifest', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option '--manifest'/);
    assert.ok(r.stderr.trim().split('\n').length <= 3, r.stderr);
    assert.doesNotMatch(r.stderr, /Options:/);
  });

  it("each subcommand's help lists only the flags it uses; the main help only built modes", () => {
    const services = run(['services', '--help']).stdout;
    assert.match(services, /--manifests/);
    assert.match(services, /--live/);
    assert.doesNotMatch(services, /--conntrack-min|--dns-bind-address|--masquerade-all/);
    const rules = run(['rules', '--help']).stdout;
    assert.match(rules, /--masquerade-all/);
    assert.doesNotMatch(rules, /--healthz-bind-address/);
    const runHelp = run(['run', '--help']).stdout;
    assert.match(runHelp, /--conntrack-min/);
    assert.match(runHelp, /--log-format/);
    assert.match(runHelp, /dataplane: userspace, nftables, iptables, ebpf, ipvs; default iptables, as kube-proxy/);
    assert.match(run(['--help']).stdout, /modes built: userspace, nftables/);
  });

  it('user mistakes end in one line naming the flag or path, exit 2', () => {
    oneLine(run(['run', '--proxy-mode', 'userspace', '--manifests', '/nonexistent-kproxy-dir']), /^kproxy: --manifests: \/nonexistent-kproxy-dir: no such folder/);
    oneLine(run(['services', '--manifests', BIN]), /--manifests: .* is a file; expected a folder/);
    oneLine(
      run(['trace', '--ruleset', '/nonexistent-kproxy-file', '--src', '10.0.0.1', '--dst', '10.0.0.2', '--dport', '80']),
      /^kproxy: --ruleset: cannot read \/nonexistent-kproxy-file: no such file/,
    );
    oneLine(run(['services', '--manifests', fromRoot('examples'), '--feature-gates', 'Nope=true']), /^kproxy: --feature-gates: unrecognized feature gate "Nope"/);
    const sched = run([
      'run',
      '--proxy-mode',
      'userspace',
      '--manifests',
      fromRoot('examples'),
      '--ipvs-scheduler',
      'wrr',
      '--metrics-bind-address',
      '',
      '--healthz-bind-address',
      '',
      '--dns-bind-address',
      'off',
    ]);
    assert.equal(sched.status, 2);
    assert.match(sched.stderr, /^kproxy: --ipvs-scheduler: unknown scheduler "wrr"/m, 'the flag the user typed, not ipvs.scheduler');
    oneLine(run(['run', '--proxy-mode', 'userspace', '--log-format', 'xml']), /^kproxy: --log-format: expected text or json/);
  });

  it('without root, nftables mode and cleanup say they need root and stop', (t) => {
    if (process.getuid?.() !== 0) {
      oneLine(run(['cleanup']), /needs root \(CAP_NET_ADMIN\)/);
      return;
    }
    try {
      accessSync(BIN, constants.R_OK);
    } catch {
      return t.skip('checkout not readable by nobody');
    }
    const nobody = { uid: 65534, gid: 65534 };
    const probe = run(['--version'], nobody);
    if (probe.status !== 0) return t.skip(`the checkout is not readable by uid 65534: ${probe.stderr.trim()}`);
    oneLine(run(['run', '--proxy-mode', 'nftables', '--manifests', fromRoot('examples')], nobody), /^kproxy: --proxy-mode nftables programs the kernel and needs root \(CAP_NET_ADMIN\)/);
    oneLine(run(['cleanup'], nobody), /^kproxy: cleanup .*needs root \(CAP_NET_ADMIN\)/);
    assert.equal(run(['cleanup', '--dry-run'], nobody).status, 0);
  });

  it('a running userspace proxy says what it does and shows it on its metrics address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-first-'));
    const port = await freePort();
    const metrics = `127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'svc.yaml'),
      [
        'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: demo}\nspec:\n  clusterIP: 127.97.13.10\n  ports: [{port: 18080}]\n',
        'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: demo, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints: [{addresses: [127.97.14.1]}]\n',
        'apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: demo}\nspec: {clusterIP: None, selector: {app: db}}\n',
      ].join('---\n'),
    );
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--proxy-mode',
        'userspace',
        '--manifests',
        dir,
        '--hostname-override',
        'n1',
        '--metrics-bind-address',
        metrics,
        '--healthz-bind-address',
        '',
        '--dns-bind-address',
        'off',
        '--log-format',
        'text',
        '--conntrack-min',
        '7',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    try {
      for (let i = 0; i < 100 && !/first sync/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(err, /INFO {2}kproxy \d+\.\d+\.\d+ starting in userspace mode .*node=n1 .*source="manifests folder /);
      assert.match(err, /WARN {2}--conntrack-min: no effect in userspace mode/);
      assert.match(err, /INFO {2}first sync: 2 Services \(1 service ports, 1 endpoints\) programmed in [\d.]+ ms/);
      const get = async (path: string) => {
        const res = await fetch(`http://${metrics}${path}`);
        return { status: res.status, text: await res.text() };
      };
      assert.deepEqual(await get('/proxyMode'), { status: 200, text: 'userspace' });
      const configz = JSON.parse((await get('/configz')).text);
      assert.equal(configz['kubeproxy.config.k8s.io'].mode, 'userspace');
      assert.equal(configz['kubeproxy.config.k8s.io'].conntrack.min, 7);
      const rules = await get('/rules');
      assert.equal(rules.status, 200);
      assert.match(rules.text, /^TCP 127\.97\.13\.10:18080 -> demo\/web internal scheduler=rr endpoints=127\.97\.14\.1:8080$/m);
      const live = await kproxyAsync(['services', '--live', '--metrics-bind-address', metrics]);
      assert.equal(live.code, 0, live.stderr);
      assert.match(live.stdout, /^node: n1 {2}mode: userspace/);
      assert.match(live.stdout, /demo\/web .*127\.97\.13\.10 .*127\.97\.14\.1:8080/);
      assert.match(live.stdout, /demo\/db .*\(DNS only: headless/);
      const liveJSON = JSON.parse((await kproxyAsync(['services', '--live', '--json', '--metrics-bind-address', metrics])).stdout);
      assert.deepEqual(liveJSON.endpointConditions['demo/web:TCP'] ?? Object.values(liveJSON.endpointConditions)[0], [
        { endpoint: '127.97.14.1:8080', ready: true, serving: true, terminating: false, nodeName: '' },
      ]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(err, /INFO {2}stopped: the userspace listeners are closed/);
    const down = await kproxyAsync(['services', '--live', '--metrics-bind-address', metrics]);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^kproxy: --live: cannot reach http:\/\/127\.0\.0\.1:\d+\/services/);
  });
});
