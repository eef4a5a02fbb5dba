// A new user's first hour, with the real binary: help that points only at files in this
// repository, and one clear line for each mistake a user makes with the configuration.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { settingsWithoutEffect } from '../../src/config/effect.js';
import { kernelSkipReason } from '../kernel/harness.js';
import { addNetns, delNetns } from '../helpers/netns.js';
import { fromRoot } from '../helpers/paths.js';
import { assertOneLine, kproxySync } from './run-kproxy.js';

const BIN = fromRoot('bin/kproxy.js');
const run = kproxySync;
const oneLine = assertOneLine;

describe('a new user', () => {
  it('every help names only files that are in the repository', () => {
    for (const cmd of [[], ['run'], ['services'], ['rules'], ['trace'], ['cleanup'], ['bench']]) {
      const r = run([...cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      // documents, and paths with a folder (bench's bare `results.json` is a file it writes)
      const files = r.stdout.match(/[\w./-]+\.md\b|[\w.-]+\/[\w./-]+\.(?:ts|js|yaml|json)\b/g) ?? [];
      for (const f of files) assert.ok(existsSync(fromRoot(f)), `kproxy ${cmd.join(' ')} --help names ${f}, which is not in the repository`);
      assert.doesNotMatch(r.stdout, /\.\.\/shared|\bissue \d/);
    }
  });

  it('a --config file that is missing, a folder or not YAML is one line naming the file and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      writeFileSync(join(dir, 'c.yaml'), 'foo: [\n');
      oneLine(run(['services', '--manifests', fromRoot('examples'), '--config', join(dir, 'c.yaml')]), /^kproxy: --config: .*c\.yaml is not valid YAML: .*line 2/);
      // a missing file and a folder: the path once, and why
      oneLine(run(['services', '--manifests', fromRoot('examples'), '--config', join(dir, 'nope.yaml')]), new RegExp(`^kproxy: --config: ${dir}/nope\\.yaml: no such file\n$`));
      oneLine(run(['services', '--manifests', fromRoot('examples'), '--config', dir]), new RegExp(`^kproxy: --config: ${dir}: cannot read it \\(EISDIR: illegal operation on a directory\\)\n$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kproxy run with a missing or broken kubeconfig stops in one line before any server starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      writeFileSync(join(dir, 'kubeconfig'), 'garbage\n');
      // userspace mode, no servers: even if the check were missing, nothing would be changed
      const quiet = ['run', '--proxy-mode', 'userspace', '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'];
      oneLine(run([...quiet, '--kubeconfig', join(dir, 'nope')]), /^kproxy: --kubeconfig: .*nope: no such file\n$/);
      oneLine(run([...quiet, '--kubeconfig', join(dir, 'kubeconfig')]), /^kproxy: --kubeconfig: .*kubeconfig: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--live with no kproxy there says why it cannot reach it', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const live = ['--live', '--metrics-bind-address', `127.0.0.1:${port}`];
    oneLine(run(['services', ...live]), /^kproxy: --live: cannot reach .*ECONNREFUSED.*is kproxy run serving metrics there/);
    oneLine(run(['trace', ...live, '--src', '10.0.0.1', '--dst', '10.96.0.1', '--dport', '80']), /^kproxy: --live: cannot reach .*ECONNREFUSED.*is kproxy run serving metrics there/);
  });

  it("a setting that exists only as kproxy's flag is named by its flag", () => {
    oneLine(run(['rules', '--manifests', fromRoot('examples'), '--service-cluster-ip-range', '10.0.0.0/8']), /^kproxy: --service-cluster-ip-range: 10\.0\.0\.0\/8 is too large/);
  });

  it('a manifest file or subfolder it may not read is listed as such, and the rest is read', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root, to run kproxy as another user (root reads every file)');
    const nobody = { uid: 65534, gid: 65534 };
    const probe = run(['--version'], nobody);
    if (probe.status !== 0) return t.skip(`the checkout is not readable by uid 65534: ${probe.stderr.trim()}`);
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      chmodSync(dir, 0o755);
      copyFileSync(fromRoot('examples', 'services.yaml'), join(dir, 'services.yaml'));
      copyFileSync(fromRoot('examples', 'pods.yaml'), join(dir, 'pods.yaml'));
      chmodSync(join(dir, 'services.yaml'), 0o644);
      chmodSync(join(dir, 'pods.yaml'), 0o600);
      mkdirSync(join(dir, 'locked'), { mode: 0o700 });
      const r = run(['services', '--manifests', dir, '--proxy-mode', 'userspace', '--hostname-override', 'demo-node'], nobody);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /demo\/web:http/);
      assert.match(r.stdout, /^ {2}File locked: cannot be read: EACCES$/m);
      assert.match(r.stdout, /^ {2}File pods\.yaml: cannot be read: EACCES$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--bind-address-hard-fail with a server address in use stops in one line naming the flag, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    const taken = net.createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    try {
      const at = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
      // userspace mode and an empty folder: nothing is proxied, whatever happens
      const quiet = ['run', '--proxy-mode', 'userspace', '--manifests', dir, '--bind-address-hard-fail'];
      // The log goes to stderr too: the last line is the error, and no stack follows it.
      const stops = (r: { status: number | null; stderr: string }, re: RegExp) => {
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr.trimEnd().split('\n').at(-1)!, re);
        assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
      };
      const why = `cannot bind ${at.replace(/\./g, '\\.')} \\(EADDRINUSE: address already in use\\); --bind-address-hard-fail stops kproxy`;
      stops(run([...quiet, '--metrics-bind-address', at, '--healthz-bind-address', '', '--dns-bind-address', 'off']), new RegExp(`^kproxy: --metrics-bind-address: ${why}`));
      stops(run([...quiet, '--metrics-bind-address', '', '--healthz-bind-address', at, '--dns-bind-address', 'off']), new RegExp(`^kproxy: --healthz-bind-address: ${why}`));
      stops(run([...quiet, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', at]), new RegExp(`^kproxy: --dns-bind-address: ${why}`));
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kproxy bench --from-json names a file that is missing or not JSON in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      oneLine(run(['bench', '--from-json', join(dir, 'nope.json')]), new RegExp(`^kproxy: --from-json: ${dir}/nope\\.json: no such file\n$`));
      writeFileSync(join(dir, 'r.json'), '{"modes": [');
      oneLine(run(['bench', '--from-json', join(dir, 'r.json')]), new RegExp(`^kproxy: --from-json: ${dir}/r\\.json is not JSON: `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kproxy bench without root stops in one line instead of printing empty tables', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root, to run kproxy as another user');
    const nobody = { uid: 65534, gid: 65534 };
    const probe = run(['--version'], nobody);
    if (probe.status !== 0) return t.skip(`the checkout is not readable by uid 65534: ${probe.stderr.trim()}`);
    oneLine(run(['bench', '--sizes', '100', '--modes', 'userspace'], nobody), /^kproxy: bench builds network namespaces and needs root; run it as root, or give --from-json FILE/);
    // Rendering an earlier run needs no root.
    const r = run(['bench', '--from-json', fromRoot('docs/benchmarks/results.json')], nobody);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| nftables \| 1,000 \|/);
  });

  it('a kernel mode whose commands are not installed stops at start in one line, in a namespace of its own', (t) => {
    const skip = kernelSkipReason(['ip']);
    if (skip) return t.skip(skip);
    const ns = `s4nu-tools-${process.pid}`;
    addNetns(ns);
    try {
      // PATH without nft and iptables: only ip (to enter the namespace) is found by its full path
      const inNs = (mode: string) =>
        spawnSync(
          'ip',
          [
            'netns',
            'exec',
            ns,
            'env',
            'PATH=/nonexistent',
            process.execPath,
            BIN,
            'run',
            '--proxy-mode',
            mode,
            '--manifests',
            fromRoot('examples'),
            '--metrics-bind-address',
            '',
            '--healthz-bind-address',
            '',
            '--dns-bind-address',
            'off',
          ],
          {
            encoding: 'utf8',
            timeout: 30_000,
          },
        );
      oneLine(inNs('nftables'), /^kproxy: the nftables mode runs the nft command, which is not on PATH; install the Debian package nftables/);
      oneLine(inNs('iptables'), /^kproxy: the iptables mode runs iptables-nft-restore or iptables-legacy-restore, and neither is on PATH; install the Debian package iptables/);
    } finally {
      delNetns(ns);
    }
  });

  it('a sync the kernel refuses is logged as its reason in one line, without a stack trace', async (t) => {
    const skip = kernelSkipReason(['ip', 'nft']);
    if (skip) return t.skip(skip);
    const ns = `s4nu-syncfail-${process.pid}`;
    const bin = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    addNetns(ns);
    try {
      // an nft that refuses everything, as on a kernel without nf_tables
      writeFileSync(join(bin, 'nft'), '#!/bin/sh\necho "Error: Could not process rule: Operation not supported" >&2\nexit 1\n', { mode: 0o755 });
      const args = ['netns', 'exec', ns, 'env', `PATH=${bin}:${process.env.PATH}`, process.execPath, BIN, 'run', '--proxy-mode', 'nftables', '--manifests', fromRoot('examples')];
      const p = spawn('ip', [...args, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      for (let i = 0; i < 300 && !/sync failed/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      const line = err.split('\n').find((l) => l.includes('sync failed'));
      assert.ok(line, err);
      const rec = JSON.parse(line) as { err: unknown };
      assert.equal(typeof rec.err, 'string');
      assert.match(rec.err as string, /Operation not supported/);
      assert.doesNotMatch(err, /"stack"|\n\s+at /);
    } finally {
      delNetns(ns);
      rmSync(bin, { recursive: true, force: true });
    }
  });

  describe("a kube-proxy user's command line", () => {
    const rules = (...flags: string[]) => {
      const r = run(['rules', '--proxy-mode', 'iptables', '--manifests', fromRoot('examples'), '--hostname-override', 'demo-node', ...flags]);
      assert.equal(r.status, 0, `${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
      return r.stdout;
    };
    const plain = rules();
    const masqRules = (t: string) => t.split('\n').filter((l) => l.includes('KUBE-MARK-MASQ')).length;

    it('boolean flags take =true / =false as in Go, and alone mean true', () => {
      assert.ok(masqRules(rules('--masquerade-all=true')) > masqRules(plain));
      assert.equal(rules('--masquerade-all'), rules('--masquerade-all=true'));
      assert.equal(rules('--masquerade-all=false'), plain);
      assert.equal(rules('--iptables-localhost-nodeports'), plain);
      assert.match(plain, /block incoming localnet connections/);
      assert.doesNotMatch(rules('--iptables-localhost-nodeports=false'), /block incoming localnet connections/);
      assert.match(plain, /--ctstate INVALID (-m nfacct --nfacct-name \S+ )?-j DROP/);
      assert.doesNotMatch(rules('--conntrack-tcp-be-liberal'), /--ctstate INVALID (-m nfacct --nfacct-name \S+ )?-j DROP/, '--conntrack-tcp-be-liberal keeps out-of-window packets, as upstream');
      assert.equal(rules('--conntrack-tcp-be-liberal=false'), plain);
      oneLine(run(['rules', '--manifests', fromRoot('examples'), '--masquerade-all=maybe']), /^kproxy: --masquerade-all: expected true or false, got "maybe"/);
    });

    it('-v in its short forms, and the logging and client flags kube-proxy takes', () => {
      assert.equal(rules('-v', '2'), plain);
      assert.equal(rules('-v=2'), plain);
      assert.equal(
        rules(
          '--profiling=false',
          '--kube-api-content-type=application/vnd.kubernetes.protobuf',
          '--log-flush-frequency=5s',
          '--vmodule=x=2',
          '--logging-format=json',
          '--show-hidden-metrics-for-version=1.30',
        ),
        plain,
      );
      oneLine(run(['rules', '--manifests', fromRoot('examples'), '--logging-format=yaml']), /^kproxy: --logging-format: expected text or json/);
      // the ones that change nothing say so at start
      const cfg = loadConfig({ flags: { profiling: 'true', kubeApiContentType: 'application/json', logFlushFrequency: '5s', proxyMode: 'iptables' } });
      const lines = settingsWithoutEffect(cfg);
      for (const f of ['--profiling', '--kube-api-content-type', '--log-flush-frequency'])
        assert.ok(
          lines.some((l) => l.startsWith(`${f}: no effect`)),
          `${f}: ${lines.join(' | ')}`,
        );
      assert.equal(loadConfig({ flags: { loggingFormat: 'json' } }).logFormat, 'json');
      assert.equal(loadConfig({ flags: { loggingFormat: 'json', logFormat: 'text' } }).logFormat, 'text', '--log-format wins over its kube-proxy name');
    });

    it('--init-only and --write-config-to are not built and say so in one line; --cleanup needs root like kproxy cleanup', () => {
      oneLine(run(['run', '--init-only']), /^kproxy: --init-only: not built: /);
      oneLine(run(['run', '--write-config-to', '/tmp/kproxy-never-written.yaml']), /^kproxy: --write-config-to: not built: .*docs\/configuration\.md/);
      assert.ok(!existsSync('/tmp/kproxy-never-written.yaml'));
      oneLine(run(['run', '--cleanup=maybe']), /^kproxy: --cleanup: expected true or false/);
      if (process.getuid?.() === 0) oneLine(run(['run', '--cleanup'], { uid: 65534, gid: 65534 }), /^kproxy: cleanup changes the kernel's rules and needs root/);
    });

    it('--cleanup, as root in a namespace of its own, runs kproxy cleanup and exits', (t) => {
      const skip = kernelSkipReason(['nft', 'ip', 'iptables']);
      if (skip) return t.skip(skip);
      const ns = `s4nu-cleanup-${process.pid}`;
      addNetns(ns);
      try {
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'run', '--cleanup', '--config', '/nonexistent-is-not-read'], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, `stdout: ${r.stdout} stderr: ${r.stderr} signal: ${r.signal}`);
        assert.equal(r.stdout, 'nothing of kproxy was installed\n', r.stderr);
      } finally {
        delNetns(ns);
      }
    });
  });
});
