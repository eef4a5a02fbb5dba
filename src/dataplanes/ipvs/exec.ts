// Runs the kernel's own command-line clients (ipvsadm, ipset, iptables-restore, ip, conntrack)
// with input on stdin. Tests and `kproxy rules` never call this; the applier does.
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Exec = (cmd: string, args: string[], input?: string) => Promise<ExecResult>;

export const exec: Exec = (cmd, args, input) =>
  new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
    child.stdin?.on('error', () => {}); // the program may exit before reading all of it
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });

/** Runs and throws with the program's own words when it fails (or, for ipvsadm -R, complains). */
export async function must(run: Exec, cmd: string, args: string[], input?: string, opts: { stderrIsError?: boolean } = {}): Promise<string> {
  const r = await run(cmd, args, input);
  const complained = opts.stderrIsError && r.stderr.trim() !== '';
  if (r.code !== 0 || complained) {
    throw new Error(`${cmd} ${args.join(' ')} failed${r.code !== 0 ? ` (exit ${r.code})` : ''}: ${r.stderr.trim().split('\n').slice(0, 5).join('; ')}`);
  }
  return r.stdout;
}
