// The two ways src/util/exec.ts starts a command, behind one small interface:
//  - posix_spawn (src/util/posix-spawn.ts): no fork of kproxy; the default where koffi and
//    glibc can be had;
//  - Node's child_process.spawn: the fallback (no koffi, not glibc, KPROXY_EXEC=child_process,
//    or an argument Node must refuse, such as one with a NUL byte).
// Either way the command leads its own process group, so that `kill` reaches whatever it
// started (a shell's children, a tool's helpers), and `done` settles only once the command has
// exited and its output pipes are closed, as child_process's "close" does.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { loadPosixSpawn, type ExitStatus, type PosixSpawn } from './posix-spawn.js';

export interface Launched {
  /** The command's stdin, when it was given input. */
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  /** Signals the command's process group; does nothing once the command is reaped. */
  kill(signal: NodeJS.Signals): void;
  /** The exit status, once exited and its output closed; rejects when the command could not start. */
  done: Promise<ExitStatus>;
}

export type Launcher = (binary: string, args: readonly string[], withStdin: boolean) => Launched;

export interface LauncherChoice {
  kind: 'posix_spawn' | 'child_process';
  launch: Launcher;
  /** Why child_process, when it is the choice. */
  reason?: string;
}

/** posix_spawn where it can be had, else child_process (with the reason). */
export function chooseLauncher(env: NodeJS.ProcessEnv = process.env): LauncherChoice {
  const wanted = env['KPROXY_EXEC'];
  if (wanted === 'child_process') return { kind: 'child_process', launch: launchNode, reason: 'KPROXY_EXEC=child_process' };
  try {
    return { kind: 'posix_spawn', launch: posixSpawnLauncher() };
  } catch (e) {
    return { kind: 'child_process', launch: launchNode, reason: `posix_spawn unavailable: ${(e as Error).message}` };
  }
}

let posixSpawn: Launcher | undefined;

/**
 * The posix_spawn launcher, bound once per process; throws where koffi or glibc cannot be had.
 * Besides chooseLauncher, for what must start commands exactly as kproxy does whatever
 * KPROXY_EXEC says (the benchmarks' references, the tests of both launchers).
 */
export function posixSpawnLauncher(): Launcher {
  return (posixSpawn ??= posixLauncher(loadPosixSpawn()));
}

/** Node's child_process.spawn, detached (setsid: a new process group led by the command). */
export const launchNode: Launcher = (binary, args, withStdin) => {
  const child = spawn(binary, args, { stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
  let closed = false;
  const done = new Promise<ExitStatus>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      closed = true;
      resolve({ code, signal });
    });
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout!,
    stderr: child.stderr!,
    kill: (signal) => {
      if (!closed && child.pid !== undefined) killGroup(child.pid, signal);
    },
    done,
  };
};

// Children whose output pipes have closed but whose exit waitpid(WNOHANG) did not see yet (the
// pipes close a moment before a process becomes a zombie; under load that moment is often a
// scheduler tick; or the command closed its output and goes on). They are tried again on every
// SIGCHLD, which the kernel sends when a child exits, and on a slow poll in case a signal is
// missed. The SIGCHLD listener exists only while some child waits here: libuv dispatches the
// signal to its own child watcher as well, which only ever waits for pids it started itself.
const awaitingExit = new Map<number, () => boolean>();
let poll: NodeJS.Timeout | undefined;
const POLL_MS = 50;

function retryExits(): void {
  for (const [pid, reaped] of awaitingExit) if (reaped()) awaitingExit.delete(pid);
  if (awaitingExit.size === 0 && poll) {
    process.off('SIGCHLD', retryExits);
    clearInterval(poll); // the interval also keeps the event loop alive meanwhile
    poll = undefined;
  }
}

/** Calls reaped() now and, until it returns true, whenever a child may have exited. */
function untilReaped(pid: number, reaped: () => boolean): void {
  if (reaped()) return; // the common case: the exit is already visible
  awaitingExit.set(pid, reaped);
  if (!poll) {
    process.on('SIGCHLD', retryExits);
    poll = setInterval(retryExits, POLL_MS);
  }
  retryExits(); // an exit between the first try and the listener sent no signal to it
}

function posixLauncher(ps: PosixSpawn): Launcher {
  return (binary, args, withStdin) => {
    const fds = ps.spawn(binary, args, withStdin);
    // net.Socket on a pipe fd: libuv makes our end non-blocking and reads it on the event loop,
    // exactly as it does for child_process's own pipes. The socket owns (and closes) its fd.
    const stdin = fds.stdin >= 0 ? new Socket({ fd: fds.stdin, readable: false, writable: true }) : null;
    const stdout = new Socket({ fd: fds.stdout, readable: true, writable: false });
    const stderr = new Socket({ fd: fds.stderr, readable: true, writable: false });
    // Read errors end the stream like EOF; the exit status says what happened.
    stdout.on('error', () => {});
    stderr.on('error', () => {});
    let gone = false; // reaped: its pid may belong to another process from now on
    const done = new Promise<ExitStatus>((resolve, reject) => {
      let open = 2;
      const tryReap = (): boolean => {
        let st: ExitStatus | null;
        try {
          st = ps.reap(fds.pid);
        } catch (e) {
          reject(e as Error);
          return true;
        }
        if (st === null) return false;
        gone = true;
        stdin?.destroy();
        resolve(st);
        return true;
      };
      const closed = () => {
        if (--open === 0) untilReaped(fds.pid, tryReap);
      };
      stdout.once('close', closed);
      stderr.once('close', closed);
    });
    return {
      stdin,
      stdout,
      stderr,
      // Until it is reaped the command's pid (a zombie at worst) is ours, so is its group id.
      kill: (signal) => {
        if (!gone) killGroup(fds.pid, signal);
      },
      done,
    };
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
