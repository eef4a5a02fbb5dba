// eBPF instructions as typed values. An instruction is one 8-byte slot
// (opcode, dst/src registers, signed 16-bit offset, signed 32-bit immediate); a 64-bit
// immediate load takes two slots. Jumps name a label instead of an offset and map loads name
// a map instead of a file descriptor: the assembler (asm.ts) resolves both.
// Opcode values are the kernel's (include/uapi/linux/bpf.h, bpf_common.h).

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0: Reg = 0,
  R1: Reg = 1,
  R2: Reg = 2,
  R3: Reg = 3,
  R4: Reg = 4,
  R5: Reg = 5;
export const R6: Reg = 6,
  R7: Reg = 7,
  R8: Reg = 8,
  R9: Reg = 9;
/** The read-only frame pointer; the stack is the 512 bytes below it. */
export const R10: Reg = 10;

// Instruction classes.
export const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
// Memory access sizes.
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export type Size = keyof typeof SIZE;
const MODE_IMM = 0x00;
const MODE_MEM = 0x60;
/** Operand source: the immediate (K) or the src register (X). */
const SRC_K = 0x00;
const SRC_X = 0x08;

export const ALU_OP = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
} as const;
export type AluOp = keyof typeof ALU_OP;

export const JMP_OP = {
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
} as const;
export type JmpOp = keyof typeof JMP_OP;
const JA = 0x00;
const CALL = 0x80;
const EXIT = 0x90;

/** src_reg of a 64-bit immediate load whose immediate is a map file descriptor. */
export const PSEUDO_MAP_FD = 1;

/** One encodable slot, or a 64-bit load (two slots). `label`/`map` are resolved by the assembler. */
export interface Insn {
  readonly kind: 'insn';
  readonly code: number;
  readonly dst: Reg;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  /** Jump target label (the offset is filled in by the assembler). */
  readonly target?: string;
  /** ld_imm64 only: the second slot's immediate (upper 32 bits). */
  readonly imm2?: number;
  /** ld_imm64 of a map: the map's name (the fd is filled in at load time). */
  readonly map?: string;
}

/** A position in the program that jumps can name. Takes no slot. */
export interface Label {
  readonly kind: 'label';
  readonly name: string;
}

export type Item = Insn | Label;

function insn(code: number, dst: Reg, src: number, off: number, imm: number, extra: Partial<Insn> = {}): Insn {
  return { kind: 'insn', code, dst, src, off, imm, ...extra };
}

export const label = (name: string): Label => ({ kind: 'label', name });

// ---- ALU -----------------------------------------------------------------------------------

/** dst = dst OP imm (64-bit). */
export const alu64Imm = (op: AluOp, dst: Reg, imm: number): Insn => insn(CLASS.ALU64 | ALU_OP[op] | SRC_K, dst, 0, 0, imm);
/** dst = dst OP src (64-bit). */
export const alu64Reg = (op: AluOp, dst: Reg, src: Reg): Insn => insn(CLASS.ALU64 | ALU_OP[op] | SRC_X, dst, src, 0, 0);
/** dst = (u32)dst OP imm; the upper half of dst becomes zero. */
export const alu32Imm = (op: AluOp, dst: Reg, imm: number): Insn => insn(CLASS.ALU | ALU_OP[op] | SRC_K, dst, 0, 0, imm);
/** dst = (u32)dst OP (u32)src; the upper half of dst becomes zero. */
export const alu32Reg = (op: AluOp, dst: Reg, src: Reg): Insn => insn(CLASS.ALU | ALU_OP[op] | SRC_X, dst, src, 0, 0);

export const mov64Imm = (dst: Reg, imm: number): Insn => alu64Imm('mov', dst, imm);
export const mov64Reg = (dst: Reg, src: Reg): Insn => alu64Reg('mov', dst, src);
export const mov32Imm = (dst: Reg, imm: number): Insn => alu32Imm('mov', dst, imm);
export const mov32Reg = (dst: Reg, src: Reg): Insn => alu32Reg('mov', dst, src);

// ---- loads and stores ----------------------------------------------------------------------

/** dst = *(size *)(src + off). */
export const ldx = (size: Size, dst: Reg, src: Reg, off: number): Insn => insn(CLASS.LDX | SIZE[size] | MODE_MEM, dst, src, off, 0);
/** *(size *)(dst + off) = src. */
export const stx = (size: Size, dst: Reg, off: number, src: Reg): Insn => insn(CLASS.STX | SIZE[size] | MODE_MEM, dst, src, off, 0);
/** *(size *)(dst + off) = imm. */
export const st = (size: Size, dst: Reg, off: number, imm: number): Insn => insn(CLASS.ST | SIZE[size] | MODE_MEM, dst, 0, off, imm);

/** dst = a 64-bit constant (two slots). */
export function ldImm64(dst: Reg, value: bigint): Insn {
  const v = BigInt.asUintN(64, value);
  return insn(CLASS.LD | SIZE.DW | MODE_IMM, dst, 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn)), { imm2: Number(BigInt.asIntN(32, v >> 32n)) });
}

/** dst = the map named `map` (two slots; the loader puts the map's fd in the immediate). */
export const ldMap = (dst: Reg, map: string): Insn => insn(CLASS.LD | SIZE.DW | MODE_IMM, dst, PSEUDO_MAP_FD, 0, 0, { imm2: 0, map });

/** Whether an instruction takes two slots. */
export const isWide = (i: Insn): boolean => i.code === (CLASS.LD | SIZE.DW | MODE_IMM);

// ---- jumps, calls, exit --------------------------------------------------------------------

/** if (dst OP imm) goto target (64-bit compare). */
export const jmpImm = (op: JmpOp, dst: Reg, imm: number, target: string): Insn => insn(CLASS.JMP | JMP_OP[op] | SRC_K, dst, 0, 0, imm, { target });
/** if (dst OP src) goto target (64-bit compare). */
export const jmpReg = (op: JmpOp, dst: Reg, src: Reg, target: string): Insn => insn(CLASS.JMP | JMP_OP[op] | SRC_X, dst, src, 0, 0, { target });
/** if ((u32)dst OP imm) goto target. */
export const jmp32Imm = (op: JmpOp, dst: Reg, imm: number, target: string): Insn => insn(CLASS.JMP32 | JMP_OP[op] | SRC_K, dst, 0, 0, imm, { target });
/** if ((u32)dst OP (u32)src) goto target. */
export const jmp32Reg = (op: JmpOp, dst: Reg, src: Reg, target: string): Insn => insn(CLASS.JMP32 | JMP_OP[op] | SRC_X, dst, src, 0, 0, { target });
/** goto target. */
export const ja = (target: string): Insn => insn(CLASS.JMP | JA, 0, 0, 0, 0, { target });
/** r0 = helper(r1..r5); r1..r5 are clobbered. */
export const call = (helper: number): Insn => insn(CLASS.JMP | CALL, 0, 0, 0, helper);
/** return r0. */
export const exit = (): Insn => insn(CLASS.JMP | EXIT, 0, 0, 0, 0);
