// Starts a command with glibc's posix_spawnp (through koffi) instead of Node's
// child_process. Why: libuv starts children with fork(), which copies the page tables of the
// whole kproxy process (10–25 ms from a 170–350 MB process, 4 ms from a small one) and leaves
// every private page copy-on-write, so each page kproxy writes afterwards takes a fault
// (≈17 µs each on the machines measured; V8's own heap is excluded from the fork with
// MADV_DONTFORK, but Buffers and native memory are not). glibc's posix_spawn uses
// clone(CLONE_VM|CLONE_VFORK): the child borrows kproxy's memory until it calls exec, so its
// cost does not grow with kproxy's size and nothing is left copy-on-write.
//
// The child gets what libuv would give it, plus its own process group:
//  - stdin is a pipe (when there is input) or /dev/null; stdout and stderr are pipes. Every
//    pipe is made O_CLOEXEC, so no other child inherits kproxy's ends; dup2 in the child's file
//    actions clears the flag on the copies at 0, 1 and 2 only.
//  - POSIX_SPAWN_SETPGROUP: the child leads a new process group, so a deadline kill reaches
//    what it started (kill(-pid)).
//  - POSIX_SPAWN_SETSIGMASK (empty) and POSIX_SPAWN_SETSIGDEF (every signal): Node ignores
//    SIGPIPE, and an ignored disposition survives exec; a tool must see the default.
//  - the environment is passed explicitly (process.env at the time of the call).
// The child is reaped with waitpid(WNOHANG) once its output pipes are closed: nothing blocks the
// event loop or a thread-pool slot, and libuv's SIGCHLD handler only ever waits for the pids of
// children it started itself, so it never takes ours.
import { constants } from 'node:os';
import { koffiLibc } from './libc.js';

export interface SpawnedFds {
  pid: number;
  /** Our end of the child's stdin, or -1 (the child reads /dev/null). */
  stdin: number;
  stdout: number;
  stderr: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The command could not be started; `code` is the errno name (ENOENT, EACCES, ...). */
export class SpawnFailure extends Error {
  constructor(
    readonly binary: string,
    readonly code: string,
  ) {
    // The same words as Node's child_process error ("spawn nft ENOENT").
    super(`spawn ${binary} ${code}`);
  }
}

export interface PosixSpawn {
  /** Starts binary (looked up on PATH like execvp) with args; throws SpawnFailure. */
  spawn(binary: string, args: readonly string[], withStdin: boolean): SpawnedFds;
  /** The child's exit status if it has exited (and reaps it), else null. Never blocks. */
  reap(pid: number): ExitStatus | null;
  /** Closes one of our fds (used when a spawn fails half-way). */
  close(fd: number): void;
}

// glibc's values (x86_64 and arm64 alike).
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const WNOHANG = 1;
const EINTR = 4;
const ECHILD = 10;
// Opaque glibc types, with room to spare: posix_spawn_file_actions_t is 80 bytes,
// posix_spawnattr_t 336, sigset_t 128.
const FILE_ACTIONS_BYTES = 256;
const ATTR_BYTES = 512;
const SIGSET_BYTES = 128;

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

type Fn<A extends unknown[]> = (...a: A) => number;

/** Binds posix_spawnp and its helpers; throws LibcUnavailable (or koffi's error) where it cannot. */
export function loadPosixSpawn(): PosixSpawn {
  const { koffi, lib } = koffiLibc();
  const f = (sig: string) => lib.func(sig);
  const pipe2 = f('int pipe2(void *, int)') as Fn<[Int32Array, number]>;
  const close = f('int close(int)') as Fn<[number]>;
  const faInit = f('int posix_spawn_file_actions_init(void *)') as Fn<[Buffer]>;
  const faDestroy = f('int posix_spawn_file_actions_destroy(void *)') as Fn<[Buffer]>;
  const faDup2 = f('int posix_spawn_file_actions_adddup2(void *, int, int)') as Fn<[Buffer, number, number]>;
  const faOpen = f('int posix_spawn_file_actions_addopen(void *, int, const char *, int, uint)') as Fn<[Buffer, number, string, number, number]>;
  const attrInit = f('int posix_spawnattr_init(void *)') as Fn<[Buffer]>;
  const attrFlags = f('int posix_spawnattr_setflags(void *, short)') as Fn<[Buffer, number]>;
  const attrPgroup = f('int posix_spawnattr_setpgroup(void *, int)') as Fn<[Buffer, number]>;
  const attrSigmask = f('int posix_spawnattr_setsigmask(void *, void *)') as Fn<[Buffer, Buffer]>;
  const attrSigdefault = f('int posix_spawnattr_setsigdefault(void *, void *)') as Fn<[Buffer, Buffer]>;
  const sigemptyset = f('int sigemptyset(void *)') as Fn<[Buffer]>;
  const sigfillset = f('int sigfillset(void *)') as Fn<[Buffer]>;
  const spawnp = f('int posix_spawnp(void *, const char *, void *, void *, const char **, const char **)') as Fn<[Int32Array, string, Buffer, Buffer, (string | null)[], (string | null)[]]>;
  const waitpid = f('int waitpid(int, void *, int)') as Fn<[number, Int32Array, number]>;

  // The attributes are the same for every command: made once, kept for the process's life
  // (posix_spawnattr_t holds no allocation, so there is nothing to destroy).
  const attr = Buffer.alloc(ATTR_BYTES);
  const noSignals = Buffer.alloc(SIGSET_BYTES);
  const allSignals = Buffer.alloc(SIGSET_BYTES);
  check(attrInit(attr), 'posix_spawnattr_init');
  check(sigemptyset(noSignals) === 0 ? 0 : koffi.errno(), 'sigemptyset');
  check(sigfillset(allSignals) === 0 ? 0 : koffi.errno(), 'sigfillset');
  // sigfillset leaves out glibc's two internal signals (32, 33), and posix_spawn would then set
  // them to SIG_IGN in the child, which survives exec. libuv's children have them at default,
  // and so do ours: their bits are set directly (signal n is bit n-1 of the first word).
  new BigUint64Array(allSignals.buffer, allSignals.byteOffset, 1)[0]! |= (1n << 31n) | (1n << 32n);
  check(attrFlags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), 'posix_spawnattr_setflags');
  check(attrPgroup(attr, 0), 'posix_spawnattr_setpgroup'); // 0: the child's own pid
  check(attrSigmask(attr, noSignals), 'posix_spawnattr_setsigmask');
  check(attrSigdefault(attr, allSignals), 'posix_spawnattr_setsigdefault');

  const pid = new Int32Array(1);
  const status = new Int32Array(1);
  const makePipe = (opened: number[]): [number, number] => {
    const fds = new Int32Array(2);
    if (pipe2(fds, O_CLOEXEC) !== 0) throw new SpawnFailure('pipe', errnoName(koffi.errno()));
    opened.push(fds[0]!, fds[1]!);
    return [fds[0]!, fds[1]!];
  };

  return {
    spawn(binary, args, withStdin) {
      const opened: number[] = [];
      const actions = Buffer.alloc(FILE_ACTIONS_BYTES);
      let actionsMade = false;
      try {
        const stdin = withStdin ? makePipe(opened) : null;
        const stdout = makePipe(opened);
        const stderr = makePipe(opened);
        check(faInit(actions), 'posix_spawn_file_actions_init');
        actionsMade = true;
        if (stdin) check(faDup2(actions, stdin[0], 0), 'posix_spawn_file_actions_adddup2');
        else check(faOpen(actions, 0, '/dev/null', O_RDONLY, 0), 'posix_spawn_file_actions_addopen');
        check(faDup2(actions, stdout[1], 1), 'posix_spawn_file_actions_adddup2');
        check(faDup2(actions, stderr[1], 2), 'posix_spawn_file_actions_adddup2');
        const env: (string | null)[] = [];
        for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env.push(`${k}=${v}`);
        env.push(null);
        const rc = spawnp(pid, binary, actions, attr, [binary, ...args, null], env);
        if (rc !== 0) throw new SpawnFailure(binary, errnoName(rc));
        // The child has its copies; ours of the child's ends go, so EOF comes when it exits.
        for (const fd of [stdin?.[0], stdout[1], stderr[1]]) if (fd !== undefined) close(fd);
        return { pid: pid[0]!, stdin: stdin ? stdin[1] : -1, stdout: stdout[0], stderr: stderr[0] };
      } catch (e) {
        for (const fd of opened) close(fd);
        throw e;
      } finally {
        if (actionsMade) faDestroy(actions);
      }
    },
    reap(child) {
      for (;;) {
        const r = waitpid(child, status, WNOHANG);
        if (r === child) return decodeStatus(status[0]!);
        if (r === 0) return null;
        const err = koffi.errno();
        if (err === EINTR) continue;
        // ECHILD: someone else reaped it (nothing in kproxy does); the status is lost.
        if (err === ECHILD) return { code: null, signal: null };
        throw new Error(`waitpid(${child}): ${errnoName(err)}`);
      }
    },
    close(fd) {
      close(fd);
    },
  };
}

/** waitpid's status word as Node reports it: an exit code, or the signal that ended it. */
export function decodeStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalNames.get(sig) ?? (`SIG${sig}` as NodeJS.Signals) };
}

function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

function check(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what}: ${errnoName(rc)}`);
}
