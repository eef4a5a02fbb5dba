// The cgroup sock_addr programs of the ebpf mode, assembled from src/bpf builders. Map
// layouts: layout.ts.
//
// balancer (connect4/6 for TCP and connected UDP, sendmsg4/6 for unconnected UDP):
//   look the destination up in `services` (not a Service: leave it alone); no backends →
//   refuse the call (ECONNREFUSED where the kernel lets a program set the error); ClientIP
//   affinity: reuse the backend remembered for this client (its network namespace) and
//   Service while it is fresh and still in the set; otherwise a random slot; remember the
//   choice (affinity) and the Service address for this socket (revnat); rewrite the address.
// reverse (recvmsg4/6, getpeername4/6): a socket's peer that is a backend it was sent to is
//   shown as the Service address it dialled.
import { assemble, type Program } from '../../bpf/asm.js';
import { SOCK_ADDR } from '../../bpf/constants.js';
import { HELPER } from '../../bpf/helpers.js';
import * as I from '../../bpf/insn.js';
import type { AttachType } from '../../bpf/constants.js';
import { addrLen, FLAG_REJECT, mapName, type Family } from './layout.js';

const ECONNREFUSED = 111;
const round8 = (n: number) => (n + 7) & ~7;

function stack(f: Family) {
  const A = addrLen(f);
  let sp = 0;
  const alloc = (n: number) => (sp -= round8(n));
  return { A, svcKey: alloc(A + 4), beKey: alloc(8), affKey: alloc(16), be: alloc(A + 4), affVal: alloc(8 + A + 4), revKey: alloc(8 + A + 4), memKey: alloc(4 + A + 4) };
}

const ipOff = (f: Family) => (f === '4' ? SOCK_ADDR.user_ip4 : SOCK_ADDR.user_ip6);

/** Copies `bytes` (a multiple of 4) from src+srcOff to dst+dstOff through r1. */
function copy(dst: I.Reg, dstOff: number, src: I.Reg, srcOff: number, bytes: number): I.Insn[] {
  const out: I.Insn[] = [];
  for (let i = 0; i < bytes; i += 4) out.push(I.ldx('W', I.R1, src, srcOff + i), I.stx('W', dst, dstOff + i, I.R1));
  return out;
}

/** r2 = fp + off. */
const fp = (reg: I.Reg, off: number): I.Insn[] => [I.mov64Reg(reg, I.R10), I.alu64Imm('add', reg, off)];

// Offsets in the services value.
const SV = { svcId: 0, setId: 4, count: 8, affinity: 12, flags: 16 } as const;

export function balancer(f: Family, opts: { setRetval: boolean }): Program {
  const s = stack(f);
  const ip = ipOff(f);
  const map = (role: Parameters<typeof mapName>[0]) => mapName(role, f);
  return assemble([
    I.mov64Reg(I.R6, I.R1),
    // services key: the destination address, port and protocol.
    ...copy(I.R10, s.svcKey, I.R6, ip, s.A),
    I.ldx('W', I.R1, I.R6, SOCK_ADDR.user_port),
    I.ldx('W', I.R2, I.R6, SOCK_ADDR.protocol),
    I.alu64Imm('and', I.R2, 0xff),
    I.alu64Imm('lsh', I.R2, 16),
    I.alu64Reg('or', I.R1, I.R2),
    I.stx('W', I.R10, s.svcKey + s.A, I.R1),
    I.ldMap(I.R1, map('services')),
    ...fp(I.R2, s.svcKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jne', I.R0, 0, 'found'),
    // Not a Service port: a ClusterIP on another port is refused (its port-0 element).
    I.st('W', I.R10, s.svcKey + s.A, 0),
    I.ldMap(I.R1, map('services')),
    ...fp(I.R2, s.svcKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jeq', I.R0, 0, 'pass'),
    I.label('found'),
    I.mov64Reg(I.R7, I.R0),
    I.ldx('W', I.R1, I.R7, SV.count),
    I.jmpImm('jeq', I.R1, 0, 'no_backends'),
    I.ldx('W', I.R1, I.R7, SV.affinity),
    I.jmpImm('jeq', I.R1, 0, 'pick'),

    // ClientIP affinity: the client is the socket's network namespace (a Pod), because an
    // unbound socket has no source address yet at connect().
    I.mov64Reg(I.R1, I.R6),
    I.call(HELPER.get_netns_cookie),
    I.stx('DW', I.R10, s.affKey, I.R0),
    I.ldx('W', I.R1, I.R7, SV.svcId),
    I.stx('W', I.R10, s.affKey + 8, I.R1),
    I.st('W', I.R10, s.affKey + 12, 0),
    I.ldMap(I.R1, map('affinity')),
    ...fp(I.R2, s.affKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jeq', I.R0, 0, 'pick'),
    I.mov64Reg(I.R8, I.R0),
    I.call(HELPER.ktime_get_ns),
    I.ldx('DW', I.R1, I.R8, 0),
    I.alu64Reg('sub', I.R0, I.R1),
    I.ldx('W', I.R2, I.R7, SV.affinity),
    I.alu64Imm('mul', I.R2, 1_000_000_000),
    I.jmpReg('jgt', I.R0, I.R2, 'pick'), // expired
    // Still a member of the Service's current set?
    I.ldx('W', I.R1, I.R7, SV.setId),
    I.stx('W', I.R10, s.memKey, I.R1),
    ...copy(I.R10, s.memKey + 4, I.R8, 8, s.A + 4),
    I.ldMap(I.R1, map('members')),
    ...fp(I.R2, s.memKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jeq', I.R0, 0, 'pick'),
    ...copy(I.R10, s.be, I.R8, 8, s.A + 4),
    I.ja('chosen'),

    I.label('pick'),
    I.call(HELPER.get_prandom_u32),
    I.ldx('W', I.R1, I.R7, SV.count),
    I.alu32Reg('mod', I.R0, I.R1),
    I.stx('W', I.R10, s.beKey + 4, I.R0),
    I.ldx('W', I.R1, I.R7, SV.setId),
    I.stx('W', I.R10, s.beKey, I.R1),
    I.ldMap(I.R1, map('backends')),
    ...fp(I.R2, s.beKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jeq', I.R0, 0, 'pass'), // a set replaced under our feet: leave the address alone
    ...copy(I.R10, s.be, I.R0, 0, s.A + 4),

    I.label('chosen'),
    I.ldx('W', I.R1, I.R7, SV.affinity),
    I.jmpImm('jeq', I.R1, 0, 'revnat'),
    I.call(HELPER.ktime_get_ns),
    I.stx('DW', I.R10, s.affVal, I.R0),
    ...copy(I.R10, s.affVal + 8, I.R10, s.be, s.A + 4),
    I.ldMap(I.R1, map('affinity')),
    ...fp(I.R2, s.affKey),
    ...fp(I.R3, s.affVal),
    I.mov64Imm(I.R4, 0),
    I.call(HELPER.map_update_elem),

    // Remember which Service address this socket dialled, for recvmsg and getpeername.
    I.label('revnat'),
    I.mov64Reg(I.R1, I.R6),
    I.call(HELPER.get_socket_cookie),
    I.stx('DW', I.R10, s.revKey, I.R0),
    ...copy(I.R10, s.revKey + 8, I.R10, s.be, s.A + 4),
    I.ldMap(I.R1, map('revnat')),
    ...fp(I.R2, s.revKey),
    ...fp(I.R3, s.svcKey),
    I.mov64Imm(I.R4, 0),
    I.call(HELPER.map_update_elem),

    ...copy(I.R6, ip, I.R10, s.be, s.A),
    I.ldx('W', I.R1, I.R10, s.be + s.A),
    I.alu64Imm('and', I.R1, 0xffff),
    I.stx('W', I.R6, SOCK_ADDR.user_port, I.R1),
    I.label('pass'),
    I.mov64Imm(I.R0, 1),
    I.exit(),

    I.label('no_backends'),
    I.ldx('W', I.R1, I.R7, SV.flags),
    I.jmpImm('jset', I.R1, FLAG_REJECT, 'reject'),
    I.mov64Imm(I.R0, 0), // EPERM
    I.exit(),
    I.label('reject'),
    ...(opts.setRetval ? [I.mov64Imm(I.R1, -ECONNREFUSED), I.call(HELPER.set_retval)] : []),
    I.mov64Imm(I.R0, 0),
    I.exit(),
  ]);
}

export function reverse(f: Family): Program {
  const s = stack(f);
  const ip = ipOff(f);
  return assemble([
    I.mov64Reg(I.R6, I.R1),
    I.call(HELPER.get_socket_cookie),
    I.stx('DW', I.R10, s.revKey, I.R0),
    ...copy(I.R10, s.revKey + 8, I.R6, ip, s.A),
    I.ldx('W', I.R1, I.R6, SOCK_ADDR.user_port),
    I.stx('W', I.R10, s.revKey + 8 + s.A, I.R1),
    I.ldMap(I.R1, mapName('revnat', f)),
    ...fp(I.R2, s.revKey),
    I.call(HELPER.map_lookup_elem),
    I.jmpImm('jeq', I.R0, 0, 'out'),
    I.mov64Reg(I.R7, I.R0),
    ...copy(I.R6, ip, I.R7, 0, s.A),
    I.ldx('W', I.R1, I.R7, s.A),
    I.alu64Imm('and', I.R1, 0xffff),
    I.stx('W', I.R6, SOCK_ADDR.user_port, I.R1),
    I.label('out'),
    I.mov64Imm(I.R0, 1),
    I.exit(),
  ]);
}

export interface ProgramDef {
  /** Kernel name and pin file name (≤ 15 characters). */
  name: string;
  attachType: AttachType;
  family: Family;
  kind: 'balancer' | 'reverse';
}

export const PROGRAMS: readonly ProgramDef[] = (['4', '6'] as Family[]).flatMap((f) => [
  { name: `kproxy_conn${f}`, attachType: `CGROUP_INET${f}_CONNECT` as AttachType, family: f, kind: 'balancer' as const },
  { name: `kproxy_send${f}`, attachType: `CGROUP_UDP${f}_SENDMSG` as AttachType, family: f, kind: 'balancer' as const },
  { name: `kproxy_recv${f}`, attachType: `CGROUP_UDP${f}_RECVMSG` as AttachType, family: f, kind: 'reverse' as const },
  { name: `kproxy_peer${f}`, attachType: `CGROUP_INET${f}_GETPEERNAME` as AttachType, family: f, kind: 'reverse' as const },
]);
