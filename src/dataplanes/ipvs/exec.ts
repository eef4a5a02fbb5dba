// Runs the kernel's own command-line clients (ipvsadm, ipset, iptables-restore, ip, conntrack)
// with input on stdin. Tests and `kproxy rules` never call this; the applier does.
import { execWithTimeout } from '../../util/exec.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Exec = (cmd: string, args: string[], input?: string) => Promise<ExecResult>;

/** Through the project's command runner (src/util/exec.ts): a deadline, and killed when kproxy exits. */
export const exec: Exec = async (cmd, args, input) => {
  try {
    const r = await execWithTimeout(cmd, args, { input: input ?? '', timeoutMs: 120_000, maxOutputBytes: 256 * 1024 * 1024 });
    return { code: r.code ?? 127, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { code: 127, stdout: '', stderr: (e as Error).message };
  }
};

/** Runs and throws with the program's own words when it fails (or, for ipvsadm -R, complains). */
export async function must(run: Exec, cmd: string, args: string[], input?: string, opts: { stderrIsError?: boolean } = {}): Promise<string> {
  const r = await run(cmd, args, input);
  const complained = opts.stderrIsError && r.stderr.trim() !== '';
  if (r.code !== 0 || complained) {
    throw new Error(`${cmd} ${args.join(' ')} failed${r.code !== 0 ? ` (exit ${r.code})` : ''}: ${r.stderr.trim().split('\n').slice(0, 5).join('; ')}`);
  }
  return r.stdout;
}
