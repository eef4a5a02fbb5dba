// The assembler: a list of instructions and labels → the bytes the kernel loads. Labels are
// resolved into jump offsets (counted in slots, relative to the next instruction); map loads
// are resolved into file descriptors by a lookup the loader passes in.
import { isWide, type Insn, type Item } from './insn.js';

export class AsmError extends Error {}

export interface Program {
  /** The instructions without labels, in order. */
  readonly insns: readonly Insn[];
  /** Slot index of each label. */
  readonly labels: ReadonlyMap<string, number>;
  /** Number of 8-byte slots. */
  readonly slots: number;
  /** Names of the maps the program loads, in first-use order. */
  readonly maps: readonly string[];
}

/** Resolves labels; throws AsmError for an unknown or duplicated label or an offset out of range. */
export function assemble(items: readonly Item[]): Program {
  const labels = new Map<string, number>();
  const insns: Insn[] = [];
  const slotOf: number[] = [];
  let slot = 0;
  for (const it of items) {
    if (it.kind === 'label') {
      if (labels.has(it.name)) throw new AsmError(`label "${it.name}" defined twice`);
      labels.set(it.name, slot);
      continue;
    }
    insns.push(it);
    slotOf.push(slot);
    slot += isWide(it) ? 2 : 1;
  }
  const maps: string[] = [];
  const resolved = insns.map((i, n) => {
    if (i.map !== undefined && !maps.includes(i.map)) maps.push(i.map);
    if (i.target === undefined) return i;
    const at = labels.get(i.target);
    if (at === undefined) throw new AsmError(`jump to unknown label "${i.target}"`);
    const off = at - (slotOf[n] + 1);
    if (off < -32768 || off > 32767) throw new AsmError(`jump to "${i.target}" is out of range (${off} slots)`);
    return { ...i, off };
  });
  return { insns: resolved, labels, slots: slot, maps };
}

/** The program's bytes; `mapFd` gives the file descriptor of each map a ld_imm64 names. */
export function encode(prog: Program, mapFd: (name: string) => number = () => 0): Buffer {
  const buf = Buffer.alloc(prog.slots * 8);
  let at = 0;
  for (const i of prog.insns) {
    const imm = i.map !== undefined ? mapFd(i.map) : i.imm;
    writeSlot(buf, at, i.code, i.dst, i.src, i.off, imm);
    at += 8;
    if (isWide(i)) {
      writeSlot(buf, at, 0, 0, 0, 0, i.imm2 ?? 0);
      at += 8;
    }
  }
  return buf;
}

function writeSlot(buf: Buffer, at: number, code: number, dst: number, src: number, off: number, imm: number): void {
  buf.writeUInt8(code, at);
  buf.writeUInt8(((src & 0xf) << 4) | (dst & 0xf), at + 1);
  buf.writeInt16LE(off, at + 2);
  buf.writeInt32LE(imm | 0, at + 4);
}

/** One line per slot, like `bpftool prog dump xlated` without symbols (for error messages and tests). */
export function hexdump(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 8)
    out.push(
      bytes
        .subarray(i, i + 8)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    );
  return out;
}
