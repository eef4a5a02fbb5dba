// The host side of the ipvs kernel suite: boots the user-mode-Linux guest for one group of
// test/kernel/ipvs/guest-suite.ts and reports each guest case as a test of its own. The
// suite is two groups, each in its own guest and its own test file, because the guest is
// slow on a loaded machine and the test runner gives one file 5 minutes.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInUml, UML_DIR, umlSkipReason, type UmlRun } from '../uml/launcher.js';

interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface GuestGroup {
  skip: string | null;
  /** The guest's results folder (removed when the test process exits). */
  out: string;
  guest: UmlRun | null;
  /** What went wrong, for an assertion message. */
  why(): string;
}

/** Boots the guest, runs the group, and registers one test per expected case name. */
export async function runGuestGroup(group: 'traffic' | 'restart', cases: readonly string[]): Promise<GuestGroup> {
  const skip = umlSkipReason();
  const out = skip ? '' : mkdtempSync(join(tmpdir(), `kproxy-ipvs-${group}-`));
  let guest: UmlRun | null = null;
  let results: CaseResult[] = [];
  if (!skip) {
    process.on('exit', () => rmSync(out, { recursive: true, force: true }));
    guest = await runInUml({ script: join(UML_DIR, 'ipvs-guest.sh'), outDir: out, timeoutS: 280, env: { IPVS_GROUP: group } });
    const file = join(out, 'results.json');
    if (existsSync(file)) results = JSON.parse(readFileSync(file, 'utf8')) as CaseResult[];
  }
  const why = () => (guest ? `guest rc ${guest.rc}; guest output:\n${guest.log.slice(-3000)}\nconsole:\n${guest.console.slice(-1500)}` : 'no guest');
  for (const name of cases) {
    test(`ipvs in the kernel: ${name}`, { skip: skip ?? false }, () => {
      const r = results.find((x) => x.name === name);
      assert.ok(r, `the guest reported no result for this case; ${why()}`);
      assert.ok(r.ok, r.error);
    });
  }
  return { skip, out, guest, why };
}
