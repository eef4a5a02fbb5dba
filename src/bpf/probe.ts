// Feature probes: ask the kernel (load a tiny program, create a tiny map) instead of reading
// its version. Each answer is cached for the life of the process.
import { assemble } from './asm.js';
import type { AttachType } from './constants.js';
import { HELPER, type HelperName } from './helpers.js';
import { call, exit, mov64Imm, R0, R1, type Item } from './insn.js';
import { BpfMap } from './map.js';
import { BpfProg } from './prog.js';
import { BpfError } from './syscall.js';

const cache = new Map<string, string | null>();

function probe(key: string, f: () => void): string | null {
  if (!cache.has(key)) {
    try {
      f();
      cache.set(key, null);
    } catch (e) {
      cache.set(key, e instanceof BpfError ? e.message.split('\n')[0] : (e as Error).message);
    }
  }
  return cache.get(key)!;
}

/** Why bpf(2) cannot create maps here, or null when it can. */
export const probeBpf = (): string | null => probe('bpf', () => BpfMap.create({ name: 'kproxy_probe', type: 'HASH', keySize: 4, valueSize: 4, maxEntries: 1 }).close());

/** Why a cgroup sock_addr program for this attach type cannot be loaded, or null. */
export const probeSockAddr = (attach: AttachType): string | null => probe(`sockaddr:${attach}`, () => load(attach, [mov64Imm(R0, 1), exit()]));

/** Why a cgroup sock_addr program for this attach type may not call the helper, or null. */
export function probeHelper(attach: AttachType, helper: HelperName): string | null {
  // r1 is the context at entry, which is what the cookie helpers take; set_retval takes an int.
  const setup: Item[] = helper === 'set_retval' ? [mov64Imm(R1, 0)] : [];
  return probe(`helper:${attach}:${helper}`, () => load(attach, [...setup, call(HELPER[helper]), mov64Imm(R0, 1), exit()]));
}

function load(attach: AttachType, items: Item[]): void {
  BpfProg.load({ name: 'kproxy_probe', type: 'CGROUP_SOCK_ADDR', attachType: attach, program: assemble(items) }, () => -1, { logLevel: 0 }).close();
}
