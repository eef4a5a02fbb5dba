// Every instruction builder pinned to its exact encoding (code, dst|src<<4, off LE16, imm LE32),
// checked against the kernel's opcode values and the hand-assembled bytes in the datapath notes.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { assemble, AsmError, encode, hexdump } from '../../src/bpf/asm.js';
import { HELPER } from '../../src/bpf/helpers.js';
import * as I from '../../src/bpf/insn.js';

const hex = (...items: I.Item[]) => hexdump(encode(assemble(items)));

test('ALU builders: 64- and 32-bit, immediate and register forms', () => {
  const cases: [I.Insn, string][] = [
    [I.mov64Reg(I.R6, I.R1), 'bf 16 00 00 00 00 00 00'],
    [I.mov64Imm(I.R0, 1), 'b7 00 00 00 01 00 00 00'],
    [I.mov64Imm(I.R2, -8), 'b7 02 00 00 f8 ff ff ff'],
    [I.mov32Imm(I.R3, 0x7f000001), 'b4 03 00 00 01 00 00 7f'],
    [I.mov32Reg(I.R4, I.R5), 'bc 54 00 00 00 00 00 00'],
    [I.alu64Imm('add', I.R2, -16), '07 02 00 00 f0 ff ff ff'],
    [I.alu64Reg('sub', I.R1, I.R2), '1f 21 00 00 00 00 00 00'],
    [I.alu64Imm('mul', I.R1, 1_000_000_000), '27 01 00 00 00 ca 9a 3b'],
    [I.alu64Imm('rsh', I.R1, 32), '77 01 00 00 20 00 00 00'],
    [I.alu64Imm('lsh', I.R1, 16), '67 01 00 00 10 00 00 00'],
    [I.alu64Imm('and', I.R1, 0xffff), '57 01 00 00 ff ff 00 00'],
    [I.alu64Reg('or', I.R1, I.R2), '4f 21 00 00 00 00 00 00'],
    [I.alu64Reg('xor', I.R1, I.R1), 'af 11 00 00 00 00 00 00'],
    [I.alu32Reg('mod', I.R0, I.R8), '9c 80 00 00 00 00 00 00'],
    [I.alu32Imm('div', I.R0, 3), '34 00 00 00 03 00 00 00'],
    [I.alu64Imm('arsh', I.R9, 1), 'c7 09 00 00 01 00 00 00'],
  ];
  for (const [insn, want] of cases) assert.deepEqual(hex(insn), [want], JSON.stringify(insn));
});

test('loads and stores of every size', () => {
  assert.deepEqual(hex(I.ldx('W', I.R2, I.R6, 4)), ['61 62 04 00 00 00 00 00']);
  assert.deepEqual(hex(I.ldx('H', I.R2, I.R6, 24)), ['69 62 18 00 00 00 00 00']);
  assert.deepEqual(hex(I.ldx('B', I.R2, I.R6, 36)), ['71 62 24 00 00 00 00 00']);
  assert.deepEqual(hex(I.ldx('DW', I.R3, I.R0, 8)), ['79 03 08 00 00 00 00 00']);
  assert.deepEqual(hex(I.stx('W', I.R10, -8, I.R2)), ['63 2a f8 ff 00 00 00 00']);
  assert.deepEqual(hex(I.stx('DW', I.R10, -16, I.R0)), ['7b 0a f0 ff 00 00 00 00']);
  assert.deepEqual(hex(I.stx('H', I.R10, -2, I.R1)), ['6b 1a fe ff 00 00 00 00']);
  assert.deepEqual(hex(I.st('W', I.R10, -4, 0)), ['62 0a fc ff 00 00 00 00']);
  assert.deepEqual(hex(I.st('DW', I.R10, -24, 7)), ['7a 0a e8 ff 07 00 00 00']);
  assert.deepEqual(hex(I.st('B', I.R10, -1, 0x11)), ['72 0a ff ff 11 00 00 00']);
});

test('64-bit immediates and map loads take two slots', () => {
  assert.deepEqual(hex(I.ldImm64(I.R1, 0x1122334455667788n)), ['18 01 00 00 88 77 66 55', '00 00 00 00 44 33 22 11']);
  assert.deepEqual(hex(I.ldImm64(I.R1, -1n)), ['18 01 00 00 ff ff ff ff', '00 00 00 00 ff ff ff ff']);
  const prog = assemble([I.ldMap(I.R1, 'services')]);
  assert.deepEqual(prog.maps, ['services']);
  assert.deepEqual(hexdump(encode(prog, (n) => (n === 'services' ? 22 : -1))), ['18 11 00 00 16 00 00 00', '00 00 00 00 00 00 00 00']);
});

test('jumps resolve labels to slot offsets (wide loads count twice), calls and exit', () => {
  const items: I.Item[] = [
    I.jmpImm('jeq', I.R0, 0, 'out'), // slot 0 → out at slot 5: off 4
    I.ldMap(I.R1, 'm'), // slots 1-2
    I.jmpReg('jgt', I.R1, I.R2, 'out'), // slot 3: off 1
    I.call(HELPER.get_prandom_u32), // slot 4
    I.label('out'),
    I.jmp32Imm('jne', I.R0, 5, 'top'), // slot 5 → slot 7: off 1
    I.ja('out'), // slot 6 → 5: off -2
    I.label('top'),
    I.jmp32Reg('jlt', I.R3, I.R4, 'out'), // slot 7 → 5: off -3
    I.exit(),
  ];
  assert.deepEqual(hex(...items), [
    '15 00 04 00 00 00 00 00',
    '18 11 00 00 00 00 00 00',
    '00 00 00 00 00 00 00 00',
    '2d 21 01 00 00 00 00 00',
    '85 00 00 00 07 00 00 00',
    '56 00 01 00 05 00 00 00',
    '05 00 fe ff 00 00 00 00',
    'ae 43 fd ff 00 00 00 00',
    '95 00 00 00 00 00 00 00',
  ]);
  for (const op of Object.keys(I.JMP_OP) as I.JmpOp[]) {
    assert.equal(encode(assemble([I.jmpImm(op, I.R1, 0, 'x'), I.label('x')]))[0], 0x05 | I.JMP_OP[op]);
  }
});

test("the datapath notes' connect4 load balancer assembles to its documented first slots", () => {
  // r6 = r1; r2 = ctx.user_ip4; *(u32 *)(r10 - 8) = r2; r2 = ctx.user_port; ...
  assert.deepEqual(hex(I.mov64Reg(I.R6, I.R1), I.ldx('W', I.R2, I.R6, 4), I.stx('W', I.R10, -8, I.R2), I.ldx('W', I.R2, I.R6, 24), I.stx('W', I.R10, -4, I.R2)), [
    'bf 16 00 00 00 00 00 00',
    '61 62 04 00 00 00 00 00',
    '63 2a f8 ff 00 00 00 00',
    '61 62 18 00 00 00 00 00',
    '63 2a fc ff 00 00 00 00',
  ]);
});

test('assembler errors: unknown label, duplicate label', () => {
  assert.throws(() => assemble([I.ja('nowhere')]), AsmError);
  assert.throws(() => assemble([I.label('a'), I.label('a')]), /defined twice/);
});
