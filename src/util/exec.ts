// Every external command kproxy runs (nft, iptables-restore, conntrack, ip) goes through
// here: it gets a deadline, is sent SIGTERM when the deadline passes and SIGKILL shortly
// after, and its output is capped. A command that hangs (a kernel lock, a stuck netlink
// socket) must never hang the sync with it: a removed Service would stay reachable and
// kproxy could not even stop. Children still running are killed when kproxy exits. Each
// command leads its own process group and a kill goes to the group, so whatever it started
// (a shell's children) goes with it. Commands are started with posix_spawn, not fork()
// (src/util/launch.ts says why and when child_process is used instead).
import { chooseLauncher, launchNode, type Launched, type Launcher, type LauncherChoice } from './launch.js';

export interface ExecOptions {
  /** Written to stdin, then stdin is closed (omit: stdin is /dev/null). Bytes in segments are written as they are. */
  input?: string | Uint8Array | readonly Uint8Array[];
  /** Deadline; the command and everything it started (its process group) are killed after it. */
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

const running = new Set<Launched>();
let chosen: LauncherChoice | undefined;

/**
 * How commands are started in this process (chosen once, on first use): 'posix_spawn' (no fork
 * of kproxy) or 'child_process' with the reason. For the start-up debug line.
 */
export function commandLauncher(): { kind: LauncherChoice['kind']; reason?: string } {
  chosen ??= chooseLauncher();
  return chosen.reason === undefined ? { kind: chosen.kind } : { kind: chosen.kind, reason: chosen.reason };
}

/** Runs binary with args; rejects when it cannot start or misses its deadline (ExecError). */
export function execWithTimeout(binary: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  chosen ??= chooseLauncher();
  return execWith(chosen.launch, binary, args, opts);
}

/** execWithTimeout with a given way of starting the command (tests run both). */
export function execWith(launch: Launcher, binary: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const cap = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  // An argument with a NUL byte cannot reach exec; Node's spawn refuses it in its own words.
  if (hasNul(binary, args)) launch = launchNode;
  return new Promise((resolve, reject) => {
    let child: Launched;
    try {
      child = launch(binary, args, opts.input !== undefined);
    } catch (e) {
      reject(new ExecError(`cannot run ${binary}: ${(e as Error).message}`, false));
      return;
    }
    running.add(child);
    const out = collector(cap);
    const err = collector(cap);
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
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
    child.done.then(
      ({ code, signal }) => {
        settle();
        if (timedOut) {
          reject(new ExecError(`${binary} ${args.join(' ')}: no answer within ${opts.timeoutMs} ms; killed`, true));
          return;
        }
        resolve({ code, signal, stdout: out.text(), stderr: err.text() });
      },
      (e: Error) => {
        settle();
        reject(new ExecError(`cannot run ${binary}: ${e.message}`, false));
      },
    );
    const stdin = child.stdin;
    if (stdin && opts.input !== undefined) {
      stdin.on('error', () => {}); // the command exiting early closes the pipe (EPIPE); its exit status reports why
      if (typeof opts.input === 'string' || opts.input instanceof Uint8Array) stdin.end(opts.input);
      else {
        for (const part of opts.input) stdin.write(part);
        stdin.end();
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

function hasNul(binary: string, args: readonly string[]): boolean {
  return binary.includes('\0') || args.some((a) => a.includes('\0'));
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
