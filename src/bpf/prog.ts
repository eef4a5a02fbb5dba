// Loading programs (with the verifier's log in the error) and attaching them to cgroups.
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { encode, hexdump, type Program } from './asm.js';
import { ATTACH_TYPE, CMD, ERRNO, PROG_TYPE, type AttachType } from './constants.js';
import { objGet, objPin } from './map.js';
import { addressOf, bpf, BpfError, cString, newAttr } from './syscall.js';

export interface ProgSpec {
  /** At most 15 characters. */
  readonly name: string;
  readonly type: keyof typeof PROG_TYPE;
  readonly attachType: AttachType;
  readonly program: Program;
  readonly license?: string;
}

const LOG_SIZE = 1 << 20;

export class BpfProg {
  private closed = false;
  constructor(
    readonly name: string,
    readonly attachType: AttachType,
    readonly fd: number,
  ) {}

  /**
   * BPF_PROG_LOAD. `mapFd` resolves the map names the program loads. A rejection throws
   * BpfError whose message ends with the verifier's log.
   */
  static load(spec: ProgSpec, mapFd: (name: string) => number, opts: { logLevel?: number } = {}): BpfProg {
    if (spec.name.length > 15) throw new Error(`program name "${spec.name}" is longer than 15 characters`);
    const insns = encode(spec.program, mapFd);
    const license = cString(spec.license ?? 'GPL');
    const log = Buffer.alloc(LOG_SIZE);
    const a = newAttr();
    a.writeUInt32LE(PROG_TYPE[spec.type], 0);
    a.writeUInt32LE(spec.program.slots, 4);
    a.writeBigUInt64LE(addressOf(insns), 8);
    a.writeBigUInt64LE(addressOf(license), 16);
    // Without a log level the kernel writes nothing; a failed load is then retried with one.
    const level = opts.logLevel ?? 0;
    if (level > 0) {
      a.writeUInt32LE(level, 24);
      a.writeUInt32LE(LOG_SIZE, 28);
      a.writeBigUInt64LE(addressOf(log), 32);
    }
    a.write(spec.name, 48, 'utf8');
    a.writeUInt32LE(ATTACH_TYPE[spec.attachType], 68);
    try {
      return new BpfProg(
        spec.name,
        spec.attachType,
        bpf(CMD.PROG_LOAD, a, `load program ${spec.name}`, () => verifierLog(log)),
      );
    } catch (e) {
      if (e instanceof BpfError && level === 0 && e.errno === ERRNO.EACCES) return BpfProg.load(spec, mapFd, { logLevel: 1 });
      if (e instanceof BpfError && level > 0 && !verifierLog(log)) {
        throw new BpfError(e.op, e.errno, `(no verifier log) program:\n${hexdump(insns).join('\n')}`);
      }
      throw e;
    }
  }

  static open(path: string, name: string, attachType: AttachType): BpfProg {
    return new BpfProg(name, attachType, objGet(path));
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function verifierLog(log: Buffer): string {
  const end = log.indexOf(0);
  return log
    .subarray(0, end < 0 ? log.length : end)
    .toString('utf8')
    .trimEnd();
}

/** An open cgroup v2 directory, as BPF_PROG_ATTACH's target. */
export function openCgroup(dir: string): number {
  return openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
}

/**
 * BPF_PROG_ATTACH without BPF_F_ALLOW_MULTI: the cgroup has one program per attach type, and
 * attaching replaces the one there atomically (no moment without a program).
 */
export function attachCgroup(cgroupFd: number, prog: BpfProg): void {
  const a = newAttr();
  a.writeUInt32LE(cgroupFd, 0);
  a.writeUInt32LE(prog.fd, 4);
  a.writeUInt32LE(ATTACH_TYPE[prog.attachType], 8);
  bpf(CMD.PROG_ATTACH, a, `attach ${prog.name} (${prog.attachType})`);
}

/** BPF_PROG_DETACH of this very program; false when it was not attached there. */
export function detachCgroup(cgroupFd: number, prog: BpfProg): boolean {
  const a = newAttr();
  a.writeUInt32LE(cgroupFd, 0);
  a.writeUInt32LE(prog.fd, 4);
  a.writeUInt32LE(ATTACH_TYPE[prog.attachType], 8);
  try {
    bpf(CMD.PROG_DETACH, a, `detach ${prog.name} (${prog.attachType})`);
    return true;
  } catch (e) {
    if (e instanceof BpfError && e.errno === ERRNO.ENOENT) return false;
    throw e;
  }
}

/** BPF_PROG_QUERY: ids of the programs attached to the cgroup for one attach type. */
export function queryCgroup(cgroupFd: number, attachType: AttachType): number[] {
  const ids = Buffer.alloc(64 * 4);
  const a = newAttr();
  a.writeUInt32LE(cgroupFd, 0);
  a.writeUInt32LE(ATTACH_TYPE[attachType], 4);
  a.writeBigUInt64LE(addressOf(ids), 16);
  a.writeUInt32LE(64, 24);
  bpf(CMD.PROG_QUERY, a, `query ${attachType}`);
  const n = a.readUInt32LE(24);
  return Array.from({ length: n }, (_, i) => ids.readUInt32LE(i * 4));
}

/** The kernel's id of a program (BPF_OBJ_GET_INFO_BY_FD). */
export function progId(fd: number): number {
  const info = Buffer.alloc(96);
  const a = newAttr();
  a.writeUInt32LE(fd, 0);
  a.writeUInt32LE(info.length, 4);
  a.writeBigUInt64LE(addressOf(info), 8);
  bpf(CMD.OBJ_GET_INFO_BY_FD, a, 'program info');
  return info.readUInt32LE(4);
}
