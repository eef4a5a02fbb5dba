// The guarantees of src/util/exec.ts, checked with real processes against both ways it can
// start a command: posix_spawn through koffi (the default) and Node's child_process (the
// fallback). Deadline and kill of the whole process group, output cap, input, errors,
// the child's signal state and file descriptors, and no zombie or fd left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLauncher, execWith, ExecError, killRunningCommands, type ExecOptions } from '../../src/util/exec.js';
import { launchNode, posixSpawnLauncher, type Launcher } from '../../src/util/launch.js';

const launchers: [string, Launcher][] = [
  ['posix_spawn', posixSpawnLauncher()],
  ['child_process', launchNode],
];

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

function procs(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Processes of a group that still run (zombies waiting for init do not run). */
const runningIn = (pgrp: number) => procs().filter((p) => p.pgrp === pgrp && p.state !== 'Z');
const myZombies = () => procs().filter((p) => p.ppid === process.pid && p.state === 'Z');
/** The fd's open flags (O_CLOEXEC included), or O_CLOEXEC for one closed meanwhile (readdir's own). */
function fdFlags(fd: number): number {
  try {
    return Number.parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
  } catch {
    return 0o2000000;
  }
}
const fdCount = () => readdirSync('/proc/self/fd').length;

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('this machine starts commands with posix_spawn (koffi and glibc are here)', () => {
  assert.deepEqual(commandLauncher(), { kind: 'posix_spawn' });
});

for (const [name, launch] of launchers) {
  const run = (bin: string, args: string[], opts: Partial<ExecOptions> = {}) => execWith(launch, bin, args, { timeoutMs: 10_000, ...opts });

  test(`${name}: exit code, signal, output and environment come back as they are`, async () => {
    assert.deepEqual(await run('sh', ['-c', 'echo out; echo err >&2; exit 7']), { code: 7, signal: null, stdout: 'out\n', stderr: 'err\n' });
    const killed = await run('sh', ['-c', 'kill -TERM $$']);
    assert.deepEqual([killed.code, killed.signal], [null, 'SIGTERM']);
    process.env['KPROXY_EXEC_TEST'] = `set at ${name}`; // the environment of the moment is passed
    try {
      assert.equal((await run('sh', ['-c', 'echo "$KPROXY_EXEC_TEST"'])).stdout, `set at ${name}\n`);
    } finally {
      delete process.env['KPROXY_EXEC_TEST'];
    }
  });

  test(`${name}: a missing or non-executable binary gives today's error`, async () => {
    await assert.rejects(run('kproxy-no-such-command', ['x']), (e: unknown) => {
      assert.ok(e instanceof ExecError);
      assert.equal(e.message, 'cannot run kproxy-no-such-command: spawn kproxy-no-such-command ENOENT');
      assert.equal(e.timedOut, false);
      return true;
    });
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-exec-'));
    try {
      const file = join(dir, 'not-executable');
      writeFileSync(file, '#!/bin/sh\n');
      await assert.rejects(run(file, []), (e: unknown) => e instanceof ExecError && e.message === `cannot run ${file}: spawn ${file} EACCES`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await assert.rejects(run('sh', ['-c', 'echo a\0b']), (e: unknown) => e instanceof ExecError && /cannot run sh: .*null bytes/.test(e.message));
  });

  test(`${name}: the deadline kills the command and what it started (its process group); nothing is left running`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-exec-'));
    try {
      const pids = join(dir, 'pids');
      // The shell ignores SIGTERM, so SIGKILL after the grace is what ends it; the sleep dies of SIGTERM.
      const script = `trap '' TERM; echo $$ > ${pids}; sleep 100 & echo $! >> ${pids}; wait; wait`;
      const t0 = performance.now();
      await assert.rejects(run('sh', ['-c', script], { timeoutMs: 300, killGraceMs: 200 }), (e: unknown) => {
        return e instanceof ExecError && e.timedOut && e.message === `sh -c ${script}: no answer within 300 ms; killed`;
      });
      assert.ok(performance.now() - t0 < 3000);
      const [shell, sleep] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
      assert.ok(shell! > 0 && sleep! > 0);
      await until('the group is gone', () => runningIn(shell!).length === 0);
      assert.ok(!procs().some((p) => p.pid === sleep && p.state !== 'Z'), 'the grandchild (sleep) is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: killRunningCommands (kproxy's exit path) kills each command's group`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-exec-'));
    try {
      const pids = join(dir, 'pids');
      const pending = run('sh', ['-c', `echo $$ > ${pids}; sleep 100 & wait`], { timeoutMs: 60_000 });
      await until('the command started', () => readFileSync(pids, { encoding: 'utf8', flag: 'a+' }).includes('\n'));
      const shell = Number(readFileSync(pids, 'utf8'));
      await until('the sleep runs', () => runningIn(shell).length === 2);
      assert.ok(killRunningCommands() >= 1);
      const r = await pending;
      assert.deepEqual([r.code, r.signal], [null, 'SIGKILL']);
      await until('the group is gone', () => runningIn(shell).length === 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: output beyond the cap is dropped and the command is not held up by it`, async () => {
    const r = await run('sh', ['-c', 'head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; echo done >&2'], { maxOutputBytes: 1000 });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, 1000);
    assert.equal(r.stderr.length, 1000);
  });

  test(`${name}: input as a string, bytes or segments; no stdin pipe without input`, async () => {
    const big = Buffer.alloc(300_000, 'x'); // more than a pipe holds at once
    for (const input of ['a\nb\n', Buffer.from('a\nb\n'), [Buffer.from('a\n'), big, Buffer.from('b\n')]]) {
      const r = await run('cat', [], { input, maxOutputBytes: 1_000_000 });
      assert.equal(r.stdout, Array.isArray(input) ? Buffer.concat(input).toString() : input.toString());
    }
    assert.equal((await run('readlink', ['/proc/self/fd/0'])).stdout, '/dev/null\n');
    assert.notEqual((await run('readlink', ['/proc/self/fd/0'], { input: '' })).stdout, '/dev/null\n');
  });

  test(`${name}: a command that exits while its input is still being written gives its own exit status`, async () => {
    const input = [Buffer.from('first line\n'), Buffer.alloc(1 << 20, 'y'), Buffer.alloc(1 << 20, 'z')];
    const r = await run('sh', ['-c', 'read -r x; exit 3'], { input });
    assert.deepEqual([r.code, r.signal, r.stderr], [3, null, '']);
    const early = await run('head', ['-c', '5'], { input: Buffer.alloc(4 << 20, 'q') });
    assert.deepEqual([early.code, early.stdout], [0, 'qqqqq']);
  });

  test(`${name}: the child has default signal dispositions (SIGPIPE too), an empty mask, its own group and only fds 0-2`, async () => {
    const status = (await run('cat', ['/proc/self/status'])).stdout;
    const field = (k: string) => BigInt('0x' + new RegExp(`^${k}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]);
    assert.equal(field('SigIgn'), 0n, 'no signal ignored (Node ignores SIGPIPE itself; glibc would ignore its internal 32 and 33)');
    assert.equal(field('SigBlk'), 0n, 'no signal blocked');
    // With SIGPIPE ignored, `yes` would see EPIPE and complain on stderr instead of dying quietly.
    assert.deepEqual(await run('sh', ['-c', 'yes | head -c 2']), { code: 0, signal: null, stdout: 'y\n', stderr: '' });
    const stat = (await run('cat', ['/proc/self/stat'])).stdout;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(f[2]), Number(stat.split(' ')[0]), 'the command leads its own process group');
    // No fd of kproxy's reaches the child, not even the pipes of a command running meanwhile;
    // only fds this process itself inherited without O_CLOEXEC (from whoever started it) pass on.
    const inherited = new Set(
      readdirSync('/proc/self/fd')
        .map(Number)
        .filter((fd) => fd > 2 && !(fdFlags(fd) & 0o2000000)),
    );
    const other = run('sh', ['-c', 'read -r x; sleep 0.5'], { input: 'x\n' });
    const fds = (await run('ls', ['/proc/self/fd'])).stdout.trim().split('\n').map(Number);
    await other;
    const extra = fds.filter((fd) => fd > 2 && !inherited.has(fd));
    assert.deepEqual(fds.slice(0, 3), [0, 1, 2]);
    assert.equal(extra.length, 1, `only ls's own directory fd beyond those: ${fds.join(' ')}`);
  });

  test(`${name}: no zombie and no fd left after 200 commands`, async () => {
    for (let i = 0; i < 5; i++) await run('true', []); // lazily opened fds (libuv's signal pipe) open here
    await new Promise((r) => setImmediate(r));
    const before = fdCount();
    for (let i = 0; i < 100; i++) await run('true', []);
    for (let i = 0; i < 100; i++) await run('cat', [], { input: 'x' });
    await new Promise((r) => setImmediate(r));
    assert.equal(fdCount(), before, 'open fds');
    assert.deepEqual(myZombies(), []);
  });
}

test('the error for a missing binary is the same from both launchers', async () => {
  const messages = await Promise.all(
    launchers.map(([, launch]) =>
      execWith(launch, 'kproxy-no-such-command', [], { timeoutMs: 5000 }).then(
        () => '',
        (e: Error) => e.message,
      ),
    ),
  );
  assert.equal(messages[0], messages[1]);
});
