// Every external command kproxy runs (nft, iptables-restore, conntrack, ip) goes through
// here: it gets a deadline, is sent SIGTERM when the deadline passes and SIGKILL shortly
// after, and its output is capped. A command that hangs (a kernel lock, a stuck netlink
// socket) must never hang the sync with it: a removed Service would stay reachable and
// kproxy could not even stop. Children still running are killed when kproxy exits.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ExecOptions {
  /** Written to stdin, then stdin is closed (omit: stdin is /dev/null). Bytes in segments are written as they are. */
  input?: string | Uint8Array | readonly Uint8Array[];
  /** Deadline; the command is killed after it. */
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Most bytes kept of stdout and of stderr each (more is dropped, not an error). */
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

const running = new Set<ChildProcess>();

/** Runs binary with args; rejects when it cannot start or misses its deadline (ExecError). */
export function execWithTimeout(binary: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const cap = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      reject(new ExecError(`cannot run ${binary}: ${(e as Error).message}`, false));
      return;
    }
    running.add(child);
    const out = collector(cap);
    const err = collector(cap);
    child.stdout!.on('data', out.add);
    child.stderr!.on('data', err.add);
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 1000);
    }, opts.timeoutMs);
    const settle = () => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      running.delete(child);
    };
    child.on('error', (e) => {
      settle();
      reject(new ExecError(`cannot run ${binary}: ${e.message}`, false));
    });
    child.on('close', (code, signal) => {
      settle();
      if (timedOut) {
        reject(new ExecError(`${binary} ${args.join(' ')}: no answer within ${opts.timeoutMs} ms; killed`, true));
        return;
      }
      resolve({ code, signal, stdout: out.text(), stderr: err.text() });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // the command exiting early closes the pipe; "close" reports why
      if (typeof opts.input === 'string' || opts.input instanceof Uint8Array) child.stdin!.end(opts.input);
      else {
        for (const part of opts.input) child.stdin!.write(part);
        child.stdin!.end();
      }
    }
  });
}

/** Kills (SIGKILL) every command still running; for the exit path. Returns how many. */
export function killRunningCommands(): number {
  const n = running.size;
  for (const c of running) c.kill('SIGKILL');
  return n;
}

function collector(cap: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add: (c: Buffer) => {
      if (size >= cap) return;
      chunks.push(size + c.length > cap ? c.subarray(0, cap - size) : c);
      size += c.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
