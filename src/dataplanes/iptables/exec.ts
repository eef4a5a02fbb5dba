// Runs the iptables tools: every command with a timeout (a hung iptables, e.g. one waiting
// forever on the xtables lock, must not hang the proxy), stdin for restore input, and errors
// that carry the tool's own message plus the input line it points at.
import { ExecError, execWithTimeout } from '../../util/exec.js';

export class IptablesError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'IptablesError';
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one command through the project's command runner (src/util/exec.ts: a deadline, and
 * killed when kproxy exits); resolves with its exit code and output, rejects only if it cannot
 * start or times out.
 */
export async function run(binary: string, args: readonly string[], opts: { input?: string | readonly Uint8Array[]; timeoutMs: number; maxStdout?: number }): Promise<RunResult> {
  try {
    const r = await execWithTimeout(binary, args, { input: opts.input, timeoutMs: opts.timeoutMs, maxOutputBytes: opts.maxStdout ?? 256 * 1024 * 1024 });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    if (e instanceof ExecError) throw new IptablesError(e.message, '', null);
    throw e;
  }
}

/** The tool's first error line, plus the input line it names ("line N failed"). */
export function describeRestoreError(stderr: string, input: string): string {
  const first =
    stderr
      .trim()
      .split('\n')
      .find((l) => /error|fail|line/i.test(l)) ??
    stderr.trim().split('\n')[0] ??
    '';
  const m = /line:?\s*(\d+)/i.exec(stderr);
  if (!m) return first;
  const n = Number(m[1]);
  const line = input.split('\n', n)[n - 1] ?? '';
  return `${first.trim()} [line ${n}: ${line.length > 300 ? line.slice(0, 300) + '…' : line}]`;
}
