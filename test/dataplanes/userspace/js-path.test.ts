// The userspace tests again, on the fallback path: the other test files run with the
// default (splice where available); here they run in a child with KPROXY_USERSPACE_BULK=js.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
// bulk-paths.test.js runs both paths itself; pump-death.test.js asks for the splice thread (it kills it); the pure ones (schedulers, compile) copy no bytes;
// UDP sessions are copied in JavaScript on either path (udp.ts never meets the splice engine),
// and a worker's restart is the same on either path (workers.test.js covers workers copying in
// JavaScript); netns.test.js removes every namespace with its prefix when it starts, and the
// demo binds the fixed DNS port 127.0.0.1:10053: a second copy running beside the main run
// would disturb it
const skip = new Set(['bulk-paths.test.js', 'pump-death.test.js', 'schedulers.test.js', 'compile.test.js', 'netns.test.js', 'udp.test.js', 'workers-restart.test.js']);

it('the userspace tests pass with the bytes copied in JavaScript (KPROXY_USERSPACE_BULK=js)', () => {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.test.js') && !skip.has(f) && join(here, f) !== self)
    .map((f) => join(here, f));
  const env: NodeJS.ProcessEnv = { ...process.env, KPROXY_USERSPACE_BULK: 'js' };
  delete env.NODE_TEST_CONTEXT; // a runner of its own, not a child of this one
  // the files mostly wait on sockets and timers: run them side by side
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${files.length}`, ...files], {
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const passed = /^ℹ pass (\d+)$/m.exec(r.stdout);
  assert.ok(passed && Number(passed[1]) >= 12, `the tests ran (${passed?.[0]})`);
});
