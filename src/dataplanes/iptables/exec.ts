// Runs the iptables tools: every command with a timeout (a hung iptables, e.g. one waiting
// forever on the xtables lock, must not hang the proxy), stdin for restore input, and errors
// that carry the tool's own message plus the input line it points at.
import { spawn } from 'node:child_process';

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

/** Runs one command; resolves with its exit code and output (rejects only if it cannot start or times out). */
export function run(binary: string, args: readonly string[], opts: { input?: string; timeoutMs: number; maxStdout?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const max = opts.maxStdout ?? 256 * 1024 * 1024;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < max) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new IptablesError(`${binary} ${args.join(' ')}: no answer within ${opts.timeoutMs} ms (killed)`, stderr, null));
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new IptablesError(`cannot run ${binary}: ${e.message}`, '', null));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // an early exit closes the pipe; "close" reports why
    child.stdin.end(opts.input ?? '');
  });
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
