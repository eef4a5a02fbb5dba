// A Ctrl-C on `npm start` signals the terminal's whole foreground process group. kproxy must
// then get one signal (the launcher's SIGTERM) and stop in order, not two (which makes it exit
// at once, skipping its orderly stop). Runs in a network namespace of its own: the demo's
// Service addresses and ports are then nobody else's.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { kernelSkipReason } from '../kernel/harness.js';
import { addNetns, delNetns } from '../helpers/netns.js';

const launcher = fileURLToPath(new URL('../../src/demo/launch.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../test/fixtures/userspace-demo', import.meta.url));

it('Ctrl-C on the demo stops kproxy in order, once', async (t) => {
  const skip = kernelSkipReason(['ip']);
  if (skip) return t.skip(skip);
  const ns = `s4nu-ctrlc-${process.pid}`;
  addNetns(ns);
  try {
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // detached: the launcher leads a process group of its own, as a shell's foreground job
    const demo = spawn('ip', ['netns', 'exec', ns, process.execPath, launcher, fixture, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !out.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /Stop with Ctrl-C/, out);
    process.kill(-demo.pid!, 'SIGINT'); // what the terminal does
    const timer = setTimeout(() => process.kill(-demo.pid!, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    assert.match(out, /stopping \(signal received\)/);
    assert.doesNotMatch(out, /second signal/);
    assert.match(out, /stopped/i);
  } finally {
    delNetns(ns);
  }
});
