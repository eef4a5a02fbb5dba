// bpf(2) through koffi (libc loaded by src/util/libc.ts). Everything else builds a
// 128-byte bpf_attr (the kernel wants the unused tail zeroed) and calls bpf().
import { arch } from 'node:process';
import { koffiLibc } from '../util/libc.js';

/** A failed bpf(2), mount or cgroup operation: what was attempted and the errno. */
export class BpfError extends Error {
  constructor(
    readonly op: string,
    readonly errno: number,
    detail = '',
  ) {
    super(`${op}: ${errnoName(errno)}${detail ? `\n${detail}` : ''}`);
  }
}

const NAMES: Record<number, string> = {
  1: 'EPERM (operation not permitted: needs CAP_BPF/CAP_SYS_ADMIN)',
  2: 'ENOENT (no such entry)',
  7: 'E2BIG (argument list too long)',
  9: 'EBADF (bad file descriptor)',
  13: 'EACCES (the verifier rejected the program)',
  17: 'EEXIST (already exists)',
  22: 'EINVAL (invalid argument: this kernel may not support the request)',
  28: 'ENOSPC (no space: map full or log buffer too small)',
  38: 'ENOSYS (no bpf(2) on this kernel)',
  524: 'ENOTSUPP (not supported by this kernel)',
};
export const errnoName = (e: number): string => NAMES[e] ?? `errno ${e}`;

const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280 };

let lib: { koffi: typeof import('koffi'); syscall: (...args: unknown[]) => number | bigint } | null = null;

function libc(): NonNullable<typeof lib> {
  if (lib) return lib;
  if (!(arch in SYS_BPF)) throw new BpfError('bpf', 38, `no bpf(2) syscall number known for ${arch}`);
  const k = koffiLibc();
  lib = { koffi: k.koffi, syscall: k.lib.func('long syscall(long number, ...)') };
  return lib;
}

/** The address of a Buffer, for pointers inside bpf_attr. Keep the Buffer referenced until the call returns. */
export const addressOf = (buf: Buffer): bigint => libc().koffi.address(buf);

export const ATTR_SIZE = 128;
export const newAttr = (): Buffer => Buffer.alloc(ATTR_SIZE);

/** bpf(cmd, attr); the result (an fd for some commands), or throws BpfError(op, errno). */
export function bpf(cmd: number, attr: Buffer, op: string, detail?: () => string): number {
  const { koffi, syscall } = libc();
  const r = Number(syscall(SYS_BPF[arch], 'int', cmd, 'void *', attr, 'uint', attr.length));
  if (r < 0) {
    const e = koffi.errno();
    throw new BpfError(op, e, detail?.());
  }
  return r;
}

/** A NUL-terminated copy of a string, for name fields and path pointers. */
export const cString = (s: string): Buffer => Buffer.from(s + '\0', 'utf8');
