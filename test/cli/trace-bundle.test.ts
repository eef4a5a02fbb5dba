// `kproxy trace` starts from its own bundle (scripts/bundle.js, dist/src/trace-bundle/, loaded
// by its start.cjs, src/cli/trace-start.ts, with V8's code cache) when the build made one. The bundle
// must answer exactly as the compiled modules do: same output, same errors, same exit code,
// for every kind of input (a manifests folder, saved nftables and iptables rulesets, bad
// flags and paths), and the code cache the build wrote must be one V8 accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACE_BUNDLE, TRACE_ENTRY } from '../../src/cli/trace-start.js';
import { kproxyIptablesRuleset, kproxyRuleset } from '../trace/kproxy-ruleset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/trace');
const base = ['trace', '--proxy-mode', 'nftables', '--manifests', FIXTURE, '--hostname-override', 'test-node', '--cluster-cidr', '10.0.0.0/8'];

type Run = { code: number; stdout: string; stderr: string };

function node(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `kproxy trace ARGS` started from the bundle (as bin/kproxy.js does), and from the compiled modules. */
async function both(args: string[]): Promise<[Run, Run]> {
  const start = `require(${JSON.stringify(join(TRACE_BUNDLE, 'start.cjs'))}).startTrace()`;
  // With -e, process.argv[1] is the first argument: a stand-in for the script path.
  return Promise.all([node(['-e', start, 'kproxy', ...args]), node([join(ROOT, 'dist/src/cli/main.js'), ...args])]);
}

/**
 * Whether V8 takes the chunk's code cache, asked in a fresh process: within one process V8
 * reuses what it compiled before from the same source, and would not look at the cache at all.
 */
function cacheTaken(file: string): boolean {
  const code = `process.stdout.write(String(require(${JSON.stringify(join(TRACE_BUNDLE, 'start.cjs'))}).compileChunk(${JSON.stringify(file)}).cached))`;
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.ok(out === 'true' || out === 'false', out);
  return out === 'true';
}

test('the build wrote the trace bundle and a code cache V8 accepts', () => {
  assert.ok(existsSync(TRACE_ENTRY), 'no bundle: run `npm run build`');
  const caches = readdirSync(TRACE_BUNDLE).filter((f) => f.endsWith('.cjs.cache'));
  assert.ok(caches.length >= 3, `code caches: ${caches.join(', ')}`);
  assert.ok(caches.includes('trace-main.cjs.cache'));
  for (const c of caches) assert.equal(cacheTaken(join(TRACE_BUNDLE, c.slice(0, -'.cache'.length))), true, c);
});

test('a code cache V8 cannot use, or one not newer than its chunk, is not used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-trace-cache-'));
  try {
    const file = join(dir, 'trace-main.cjs');
    const source = readFileSync(TRACE_ENTRY, 'latin1');
    const cache = readFileSync(TRACE_ENTRY + '.cache');
    const old = new Date(Date.now() - 60_000);
    writeFileSync(file, source);
    utimesSync(file, old, old);
    assert.equal(cacheTaken(file), false); // none
    writeFileSync(file + '.cache', cache);
    assert.equal(cacheTaken(file), true); // a copy of the build's
    writeFileSync(file + '.cache', cache.subarray(0, cache.length >> 1)); // cut short
    assert.equal(cacheTaken(file), false);
    writeFileSync(file + '.cache', Buffer.from('not a code cache'));
    assert.equal(cacheTaken(file), false);
    writeFileSync(file + '.cache', cache);
    // The chunk changed after its cache was written, to a source of the same length (all V8 compares).
    writeFileSync(file, source.replace('kproxy', 'kPROXY'));
    utimesSync(file + '.cache', old, old);
    assert.equal(cacheTaken(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle traces exactly as the compiled modules do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-trace-bundle-'));
  try {
    const nft = join(dir, 'ruleset.nft');
    const ipt = join(dir, 'ruleset.iptables');
    const bad = join(dir, 'bad.nft');
    writeFileSync(nft, kproxyRuleset(40));
    writeFileSync(ipt, await kproxyIptablesRuleset(40));
    writeFileSync(bad, 'add table ip kproxy\nadd chain ip kproxy c { type nat hook prerouting priority -100 ; }\nadd rule ip kproxy c ip daddr 10.0.0.300 accept\n');
    const packet = ['--src', '10.200.0.9', '--dst', '172.16.0.7', '--dport', '80', '--local-address', '192.168.0.2'];
    const cases = [
      [...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80', '--json'],
      [...base, '--src', '203.0.113.7', '--dst', '192.168.0.2', '--dport', '30080'],
      [...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', 'eighty'],
      ['trace', '--proxy-mode', 'nftables', '--manifests', join(dir, 'nothing-here'), ...packet],
      ['trace', '--proxy-mode', 'nftables', '--ruleset', nft, ...packet],
      ['trace', '--proxy-mode', 'nftables', '--ruleset', nft, ...packet, '--json', '--check-all'],
      ['trace', '--ruleset', nft, ...packet, '--json'], // mode from the text
      ['trace', '--ruleset', ipt, ...packet], // iptables, from the text
      ['trace', '--proxy-mode', 'iptables', '--ruleset', ipt, ...packet, '--json'],
      ['trace', '--proxy-mode', 'nftables', '--ruleset', bad, '--src', '10.200.0.9', '--dst', '10.0.0.1', '--dport', '80'],
      ['trace', '--proxy-mode', 'nftables', '--ruleset', join(dir, 'missing.nft'), ...packet],
      ['trace', '--proxy-mode', 'userspace', '--ruleset', nft, ...packet],
      ['trace', '--live', '--metrics-bind-address', '127.0.0.1:1', ...packet],
      ['trace', '--ruleset', nft, '--src', '10.200.0.9'],
      ['trace', '--no-such-flag'],
      ['trace', '--help'],
    ];
    for (const args of cases) {
      const [bundled, plain] = await both(args);
      assert.deepEqual(bundled, plain, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/kproxy.js starts a trace from the bundle', async () => {
  // A preloaded script notes which files of the bundle are read (fs.readFileSync, as trace-start.ts reads them).
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-trace-bin-'));
  try {
    const spy = join(dir, 'spy.cjs');
    writeFileSync(
      spy,
      "const fs = require('node:fs'); const read = fs.readFileSync; const seen = [];\n" +
        "fs.readFileSync = function (f, ...rest) { if (String(f).includes('trace-bundle')) seen.push(String(f)); return read.call(this, f, ...rest); };\n" +
        "require('node:module').syncBuiltinESMExports();\n" +
        "process.on('exit', () => process.stderr.write('read: ' + seen.join(' ') + '\\n'));\n",
    );
    const viaBin = await node(['--require', spy, join(ROOT, 'bin/kproxy.js'), ...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80', '--json']);
    assert.equal(viaBin.code, 0, viaBin.stderr);
    assert.equal(JSON.parse(viaBin.stdout).verdict, 'DNAT');
    assert.match(viaBin.stderr, /trace-main\.cjs /);
    assert.match(viaBin.stderr, /trace-main\.cjs\.cache/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
