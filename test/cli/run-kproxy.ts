// Runs the real kproxy CLI (bin/kproxy.js over dist/): asynchronously, so that servers the
// test itself runs keep answering while it works, or synchronously for one-shot commands; and
// the check every user mistake must pass (exit 2, one line, no stack trace).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function kproxy(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/kproxy.js'), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the CLI to its end (30 s at most), optionally as another user. */
export const kproxySync = (args: string[], opts: { uid?: number; gid?: number } = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/kproxy.js'), ...args], { encoding: 'utf8', timeout: 30_000, ...opts });

/** A user mistake: exit 2 and one line on stderr matching `re`, with no stack trace. */
export function assertOneLine(r: { status: number | null; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
